# permissions

//! What supervisors and the director see of oversight (§4 ¶2 主管督導, §8).

# unannounced audits, Form 4

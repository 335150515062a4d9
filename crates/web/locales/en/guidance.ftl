# Guidance where the rules bite: the rules and forms (/rules), help on the registration form
rules-title = The rules and their forms
rules-intro = The bureau's rules for using the BLI data service (管理要點) in full, with its four forms. Every page of this system applies them and links to the clause it applies. The official text is in Chinese; each clause has an English summary.
rules-toc = Clauses
rules-clause = Clause { $n }
rules-link-to = Link to clause
rules-source = Source: the Kaohsiung City Government Social Affairs Bureau's rules for using the BLI data intermediary service, as amended on 26 April 2017 (ROC 106) by letter 高市社秘字第 10633677300 號. The forms are listed by their fields; the official layouts are the system's form PDFs.
rules-see-5 = Rule: clause 5 of the rules
rules-see-6 = Rule: clause 6 of the rules
rules-see-7 = Rule: clause 7 of the rules
rules-see-8 = Rule: clause 8 of the rules
guide-basis-help = Choose the article of law this query rests on: it must empower the bureau to query or collect this data for this business. The Personal Data Protection Act alone is not a basis.
guide-basis-texts = What each legal basis allows
guide-basis-programmes = Programmes
guide-relevance-help = Explain how this case (the applicant, the case or the business) relates to the data: which business it serves, what needs confirming, and why these items. Write it in your own words; empty, placeholder text such as "as above", or the same text as an earlier registration is refused.

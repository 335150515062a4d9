# Printed documents (Forms 1-4, the register, the quarterly report)
documents-title = Printed document
documents-download-pdf = Download PDF
documents-view-html = View as web page
documents-in-chinese = The form below is the one the rules prescribe, in Chinese: it has no English version.
documents-print-form1 = Form 1 permission application
documents-print-form2 = Form 2 query register
documents-print-form3 = Form 3 query request
documents-print-form4 = Form 4 audit record
documents-print-quarterly = Quarterly review report (to the Labor Affairs Bureau)
documents-font-missing = No Traditional Chinese font is installed, so no PDF can be produced for now; ask the administrator to install the fonts-noto-cjk package. The same content as a web page follows.
documents-register = Unit register
documents-register-unit = Unit code
documents-register-from = From
documents-register-to = To
documents-print-citizen-letter = Reply letter to the citizen
documents-register-title = Form 2 register of a unit
documents-register-show = Produce the register

# 規定在手邊：管理要點與附表（/rules）、登記表的填寫說明
rules-title = 管理要點與附表
rules-intro = 本局應用勞保局資訊作業的管理要點全文與四份附表。系統各頁面依這些規定運作，並連結到適用的條文。
rules-toc = 條文目錄
rules-clause-prefix = 第
rules-clause-suffix = 點
rules-link-to = 連結到第
rules-source = 來源：高雄市政府社會局應用勞動部勞工保險局資訊作業管理要點（中華民國 106 年 4 月 26 日高市社秘字第 10633677300 號函修正）。附表以欄位列出，正式版面請見系統產生的表單 PDF。
rules-see-5 = 依據：管理要點第五點
rules-see-6 = 依據：管理要點第六點
rules-see-7 = 依據：管理要點第七點
rules-see-8 = 依據：管理要點第八點
guide-basis-help = 請選擇本案查調所依據的法令條文：該條文須授權機關為辦理此項業務查調或蒐集資料。只引用個人資料保護法不足以作為依據。
guide-basis-texts = 查看各法令依據的條文要旨
guide-basis-programmes = 適用業務
guide-relevance-help = 請說明本案（申請人、案件或業務）與所查調資料之間的關聯：為辦理哪一項業務、需要確認什麼、為何需要這些查調項目。請用自己的話具體敘述，空白、「同上」等預設文字或與先前登記完全相同的說明不予受理。

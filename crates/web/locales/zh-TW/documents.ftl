# 列印文件（附表 1–4、登記表、季報告）
documents-title = 列印文件
documents-download-pdf = 下載 PDF
documents-in-chinese = 以下為要點所定之中文表單，無英文版本。
documents-view-html = 網頁檢視
documents-print-form1 = 附表 1 權限申請表
documents-print-form2 = 附表 2 查調資料登記表
documents-print-form3 = 附表 3 查調資料申請表
documents-print-form4 = 附表 4 稽核紀錄表
documents-print-quarterly = 季檢查結果報告（送勞工局）
documents-font-missing = 本系統找不到繁體中文字型，暫時無法產製 PDF；請系統管理者安裝 fonts-noto-cjk 套件。以下為相同內容之網頁檢視。
documents-register = 單位登記表
documents-register-unit = 單位代碼
documents-register-from = 起日
documents-register-to = 迄日
documents-print-citizen-letter = 當事人查詢個人資料答復書
documents-register-title = 附表 2 單位查調資料登記表
documents-register-show = 產製登記表

//! The catalogue maintained in the app (MISSION.md "the catalogue is data"; Form 1 其他), over
//! HTTP against the real binary: the permission administrator adds and retires an item through
//! the page and the API; anyone else is refused by both with the same code; a retired item
//! stays listed but is no longer offered for new registrations.

use querywarden_testkit::people::{LIN, WU};
use querywarden_testkit::{location, with_demo};

#[test]
fn the_administrator_keeps_the_catalogue_and_the_page_and_api_refuse_others_alike() {
    with_demo([WU, LIN], async |_, [wu, lin]| {
        // The administrator adds an item on the page.
        let r = wu
            .post(
                "/admin/catalogue",
                &[
                    ("op", "add_item"),
                    ("code", "X0901"),
                    ("name_zh", "其他：就業保險給付"),
                    ("name_en", "other: employment insurance benefits"),
                ],
                true,
            )
            .await;
        assert_eq!(r.status(), 303);
        assert_eq!(location(&r), "/admin/catalogue?notice=changed");
        let page = wu.page("/admin/catalogue").await;
        assert!(page.contains("X0901") && page.contains("其他：就業保險給付"));
        assert!(page.contains("id=\"catalogue-item-form\""));
        // Others see the catalogue without the forms.
        let page = lin.page("/admin/catalogue").await;
        assert!(page.contains("X0901") && !page.contains("id=\"catalogue-item-form\""));
        // Someone else: refused by the page and the API with the same code.
        lin.post_shows(
            "/admin/catalogue",
            &[("op", "retire_item"), ("code", "C0101")],
            403,
            "catalogue.not_administrator",
        )
        .await;
        assert_eq!(
            lin.api_post_code(
                "/api/v1/catalogue/changes",
                serde_json::json!({ "op": "retire_item", "code": "C0101" })
            )
            .await,
            (403, "catalogue.not_administrator".into())
        );
        // The administrator retires it through the API; twice is refused.
        let retire = serde_json::json!({ "op": "retire_item", "code": "B0401" });
        let r = wu
            .api_post("/api/v1/catalogue/changes", retire.clone())
            .await;
        assert_eq!(r.status(), 200);
        assert_eq!(
            wu.api_post_code("/api/v1/catalogue/changes", retire).await,
            (409, "catalogue.retired".into())
        );
        // Still listed (old records name it), no longer offered to lin for a new registration.
        let items = wu.api_get("/api/v1/service-items").await;
        assert!(items.to_string().contains("B0401"), "{items}");
        let form = lin.page("/registrations/new").await;
        assert!(form.contains("value=\"C0101\""), "{form}");
        assert!(
            !form.contains("value=\"B0401\""),
            "a retired item is offered"
        );
    });
}

//! axe-core in headless Chromium on every screen of the portal, at desktop and phone width,
//! through the real popup sign-in: the sign-in screen, the list, the add dialog without and with
//! errors, the import preview and the import report. No violation anywhere. And the header
//! keeps its height when the user's name arrives (no layout shift).

use std::time::Duration;

use zcrm_tests::{Browser, Stack};

mod page;
use page::*;

const IN_ADMIN: &str = "admin@bharat-learning.example";

/// The header's height in CSS pixels.
async fn header_height(b: &Browser) -> f64 {
    b.client
        .execute(
            "return document.querySelector('header').getBoundingClientRect().height",
            vec![],
        )
        .await
        .unwrap()
        .as_f64()
        .unwrap()
}

/// Every screen at the browser's width now; `label` names the width.
async fn every_screen(b: &Browser, stack: &Stack, label: &str, file: &std::path::Path) {
    b.client.goto(&format!("{}/", stack.app)).await.unwrap();
    wait_for(b, "[data-testid=sign-in-screen]").await;
    assert_no_axe_violation(b, &format!("the sign-in screen ({label})")).await;
    let signed_out = header_height(b).await;

    sign_in(b, IN_ADMIN, "Arjun Mehta").await;
    wait_for(b, "[data-testid=student-row]").await;
    row_names(b).await;
    // The user's name and buttons fit the header's height: nothing below it moved (layout shift).
    assert_eq!(
        header_height(b).await,
        signed_out,
        "the header's height ({label})"
    );
    assert_no_axe_violation(b, &format!("the list ({label})")).await;

    click(b, "[data-testid=add-student]").await;
    wait_for(b, "[data-testid=student-form]").await;
    // The course list has come.
    wait_for(b, "[data-testid=field-course] option:not([value=''])").await;
    assert_no_axe_violation(b, &format!("the add dialog ({label})")).await;
    click(b, "[data-testid=save-student]").await;
    wait_text(
        b,
        "[data-testid=form-error]",
        "Check the highlighted fields",
    )
    .await;
    assert_no_axe_violation(b, &format!("the add dialog with errors ({label})")).await;
    click(b, "[data-testid=cancel-student]").await;

    click(b, "[data-testid=import-open]").await;
    wait_for(b, "[data-testid=import-file]").await;
    assert_no_axe_violation(b, &format!("the import dialog ({label})")).await;
    wait_for(b, "[data-testid=import-file]")
        .await
        .send_keys(&file.display().to_string())
        .await
        .unwrap();
    wait_for(b, "[data-testid=import-preview]").await;
    assert_no_axe_violation(b, &format!("the import preview ({label})")).await;
    click(b, "[data-testid=import-start]").await;
    wait_for(b, "[data-testid=import-report]").await;
    assert_no_axe_violation(b, &format!("the import report ({label})")).await;
    click(b, "[data-testid=import-close]").await;

    click(b, "[data-testid=sign-out]").await;
    wait_for(b, "[data-testid=sign-in-screen]").await;
    wait_for(b, "[data-testid=notice]").await;
    assert_no_axe_violation(
        b,
        &format!("the sign-in screen after signing out ({label})"),
    )
    .await;
}

#[tokio::test]
#[ignore = "needs the running stack: cargo xtask test"]
async fn axe_finds_no_violation_on_any_screen_at_desktop_and_phone_width() {
    let stack = Stack::from_env();
    let b = Browser::start().await;
    let dir = zcrm_tests::TempDir::new("audit");
    for (label, (width, height)) in [("desktop", (1280, 800)), ("phone", (390, 844))] {
        b.client.set_window_size(width, height).await.unwrap();
        // One new student, one refused row, one repeat: every kind of row in the report.
        let file = dir.0.join(format!("{label}.csv"));
        let email = format!("axe{}-{label}@college.example", unique());
        std::fs::write(
            &file,
            format!(
                "first_name,last_name,college,course,email,phone\n\
                 Ana,Axe,Bharat College,Data Science,{email},\n\
                 Ben,Axe,Bharat College,Cooking,ben@college.example,\n\
                 Cy,Axe,Bharat College,Data Science,{email},\n"
            ),
        )
        .unwrap();
        every_screen(&b, &stack, label, &file).await;
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    b.close().await;
}

fn main() {
    leptos::mount::mount_to_body(zcrm_app::App);
}

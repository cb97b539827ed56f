"""WorkspaceAdmin, JavaScript side, in a real Chromium page (tests/widgets/js_harness.py): the
table and the selected workspace from the traits, what each button sends, the new key's box
(copy, done) and the message a non-admin key gets."""

from __future__ import annotations

from tests.widgets.js_harness import page, render, traits_of  # noqa: F401  (page: a fixture)
from tokenfactory.widgets.workspace_admin import WorkspaceAdmin

CAP = {"tokens": 1000, "used": 250, "remaining": 750, "resets_at": 1_800_000_000}
WORKSPACES = [
    {"name": "default", "tier": "unlimited", "balance_usd": None, "cap": None, "active_keys": 1},
    {"name": "alice", "tier": "free", "balance_usd": 1.5, "cap": CAP, "active_keys": 1},
]
KEYS = [
    {"id": "key_1", "prefix": "tf-abcd", "name": "laptop", "admin": False,
     "created_at": 1_700_000_000, "revoked_at": None},
]  # fmt: skip
HOOKS = [
    {"id": "we_1", "url": "http://127.0.0.1:9/webhook", "events": ["batch.completed"],
     "deliveries": [{"event_type": "webhook.test", "status": "delivered", "attempts": 1,
                     "created_at": 1_700_000_000, "last_status_code": 204}]},
]  # fmt: skip


def admin_traits() -> dict:
    """An admin's view: two workspaces (alice selected), a key, a webhook and a model price."""
    return traits_of(
        WorkspaceAdmin, workspaces=WORKSPACES, selected="alice", api_keys=KEYS, webhooks=HOOKS,
        prices=[{"model": "test/chat", "input": 1.5, "output": 3.0}], models=["test/chat"],
        tier_prices={"realtime": {"input": 0.1, "output": 0.1}},
    )  # fmt: skip


def test_tables_buttons_and_the_new_key(page, tmp_path):  # noqa: F811
    traits = admin_traits()
    assert render(page, WorkspaceAdmin, traits, tmp_path) == []
    alice = page.locator(".tf-wa-row[data-workspace='alice']")
    assert alice.get_attribute("aria-selected") == "true"
    assert "$1.500000" in alice.inner_text() and "250 / 1,000 tokens (25%)" in alice.inner_text()
    assert "no wallet" in page.inner_text(".tf-wa-row[data-workspace='default']")
    assert "delivered" in page.inner_text(".tf-wa-deliveries")

    page.fill(".tf-wa-amount", "2.5")
    page.click(".tf-wa-top_up-button")
    page.fill(".tf-wa-cap-tokens", "5000")
    page.click(".tf-wa-set_cap-button")
    page.fill(".tf-wa-key-name", "ci")
    page.click(".tf-wa-create_key-button")
    page.click(".tf-wa-revoke")  # asks first
    page.click(".tf-wa-revoke-confirm")
    page.fill(".tf-wa-hook-url", "http://example.test/hook")
    page.click(".tf-wa-add_webhook-button")
    page.click(".tf-wa-test")
    page.fill(".tf-wa-price[data-model='test/chat'] .tf-wa-price-in", "2")
    page.click(".tf-wa-price[data-model='test/chat'] .tf-wa-set-price")
    page.click(".tf-wa-row[data-workspace='default']")
    assert page.evaluate("window.sent") == [
        {"action": "top_up", "amount_usd": "2.5"},
        {"action": "set_cap", "monthly_tokens": "5000"},
        {"action": "create_key", "name": "ci"},
        {"action": "revoke_key", "key_id": "key_1"},
        {"action": "add_webhook", "url": "http://example.test/hook"},
        {"action": "test_webhook", "endpoint_id": "we_1"},
        {"action": "set_price", "model": "test/chat", "input": "2", "output": "3"},
        {"action": "select", "workspace": "default"},
    ]

    page.evaluate("window.model.set('new_key', {workspace: 'alice', id: 'k2', key: 'tf-secret'})")
    assert page.inner_text(".tf-wa-key") == "tf-secret"
    page.click(".tf-wa-copy")
    page.wait_for_function("document.querySelector('.tf-wa-copied').textContent !== ''")
    page.click(".tf-wa-dismiss")
    assert page.evaluate("window.sent.at(-1)") == {"action": "dismiss_key"}


def test_a_non_admin_key_sees_a_message_not_the_tables(page, tmp_path):  # noqa: F811
    traits = traits_of(WorkspaceAdmin, denied="WorkspaceAdmin needs an admin key.")
    assert render(page, WorkspaceAdmin, traits, tmp_path) == []
    assert page.inner_text(".tf-wa-denied") == "WorkspaceAdmin needs an admin key."
    assert not page.is_visible(".tf-wa-body")


def test_a_refresh_keeps_what_the_user_is_typing(page, tmp_path):  # noqa: F811
    """Issue 22: a refresh landing while the user types redraws the tables, not the forms."""
    traits = admin_traits()
    assert render(page, WorkspaceAdmin, traits, tmp_path) == []
    assert page.input_value(".tf-wa-cap-tokens") == "1000"
    typed = {
        ".tf-wa-new-workspace": "research-te",
        ".tf-wa-key-name": "half a na",
        ".tf-wa-amount": "12.5",
        ".tf-wa-cap-tokens": "2000",
        ".tf-wa-hook-url": "https://hooks.example/",
        ".tf-wa-price[data-model='test/chat'] .tf-wa-price-out": "4",
    }
    for selector, text in typed.items():
        page.fill(selector, text)
    page.focus(".tf-wa-key-name")
    richer = {**WORKSPACES[1], "balance_usd": 9.0, "active_keys": 2}
    second = {**KEYS[0], "id": "key_2", "name": "ci"}
    page.evaluate(  # what refresh() sends: every data trait anew
        """([workspaces, keys]) => {
            window.model.set("workspaces", workspaces);
            window.model.set("selected", "alice");
            window.model.set("api_keys", keys);
            window.model.set("webhooks", [...window.model.get("webhooks")]);
            window.model.set("prices", [{model: "test/chat", input: 1.75, output: 3.0}]);
            window.model.set("models", ["test/chat", "test/other"]);
        }""",
        [[WORKSPACES[0], richer], [*KEYS, second]],
    )
    # the data views show the new data
    assert "$9.000000" in page.inner_text(".tf-wa-row[data-workspace='alice']")
    assert page.locator(".tf-wa-keyrow").count() == 2
    assert page.locator(".tf-wa-price").count() == 2
    assert page.input_value(".tf-wa-price[data-model='test/chat'] .tf-wa-price-in") == "1.75"
    # ... and every field still holds what was typed, the cursor still in the one in use
    for selector, text in typed.items():
        assert page.input_value(selector) == text, selector
    assert page.evaluate("document.activeElement.classList.contains('tf-wa-key-name')")

    # a failed action keeps the text; one that went through empties its form
    page.click(".tf-wa-create_key-button")
    page.evaluate("window.model.set('error', 'Workspace is archived')")
    assert page.input_value(".tf-wa-key-name") == "half a na"
    page.click(".tf-wa-create_key-button")
    page.evaluate("window.model.set('notice', 'Created key tf-ab… for \\'alice\\'')")
    assert page.input_value(".tf-wa-key-name") == ""
    assert page.input_value(".tf-wa-amount") == "12.5"  # other forms keep theirs
    # another workspace shows its own cap, not the one typed for alice
    page.click(".tf-wa-row[data-workspace='default']")
    page.evaluate("window.model.set('selected', 'default')")
    assert page.input_value(".tf-wa-cap-tokens") == ""
    assert page.get_attribute(".tf-wa-detail", "data-workspace") == "default"

"""The console's accounts, SOP library and audit pages, used as their people use them: signed in through the
sign-in form, with the session cookie and the CSRF token the page carries, against the real app and stores."""

from __future__ import annotations

import html
import itertools
import re
import shutil
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from api.app import create_app
from copilot.domain.accounts import Actor, Role
from copilot.domain.drafts import utcnow
from copilot.domain.records import AuditAction, AuditEntry
from copilot.services import Services, build_services
from knowledge_base.embeddings import LocalMiniLMEmbeddings
from tests.factories import SOP_DIR, make_settings

pytestmark = pytest.mark.integration

PASSWORD = "a-long-password-1"
PAGES = {
    "/console/admin": {Role.ADMIN},
    "/console/sop": {Role.SOP_WRITER, Role.ADMIN},
    "/console/audit": {Role.QA, Role.ADMIN},
}
# Each browser comes from an address of its own: failed sign-ins are throttled per address, and the
# `ready` services (with their sign-in failures) are shared by every test of the session.
_addresses = (f"198.51.100.{n}" for n in itertools.count(1))

OpenBrowser = Callable[[FastAPI, "str | None"], TestClient]
SignIn = Callable[..., TestClient]  # (user name, or nothing for a browser not signed in) -> a browser


def person(services: Services, role: Role) -> str:
    """A new user of this role, with a name no other test uses."""
    name = f"{role.value.replace('_', '-')}-{uuid.uuid4().hex[:10]}"
    services.accounts.add_user(name, role, PASSWORD, by=Actor.operator("tests"))
    return name


def csrf(page: str) -> str:
    found = re.search(r'name="csrf_token" value="([^"]+)"', page)
    assert found, "the page has no CSRF token field"
    return found.group(1)


def plain(fragment: str) -> str:
    """HTML as a reader sees it: tags dropped, entities decoded, white space collapsed."""
    return " ".join(html.unescape(re.sub(r"<[^>]+>", " ", fragment)).split())


def inner_html(page: str, element_id: str) -> str:
    found = re.search(rf'<(\w+)[^>]*\bid="{re.escape(element_id)}"[^>]*>(.*?)</\1>', page, re.DOTALL)
    return found.group(2) if found else ""


def text_of(page: str, element_id: str) -> str:
    """The text of the element with this id; '' when the page has none."""
    return plain(inner_html(page, element_id))


def ids(page: str, prefix: str) -> list[str]:
    """The ids (less the prefix) of the page's table rows whose id starts with it, in page order."""
    return re.findall(rf'<tr id="{re.escape(prefix)}([^"]+)">', page)


WHEN, WHO, ACTION, TARGET, FROM_WHERE, DETAIL = range(6)  # the audit table's columns


def audit_rows(page: str) -> list[list[str]]:
    """The audit table's rows, newest first, each as the text of its cells."""
    return [
        [plain(cell) for cell in re.findall(r"<td[^>]*>(.*?)</td>", inner_html(page, f"audit-{entry_id}"), re.DOTALL)]
        for entry_id in ids(page, "audit-")
    ]


@pytest.fixture
def open_browser() -> Iterator[OpenBrowser]:
    """Opens browsers of their own on an app, signed in through the sign-in form when a user is named."""
    opened: list[TestClient] = []

    def open_on(app: FastAPI, name: str | None = None) -> TestClient:
        browser = TestClient(app, client=(next(_addresses), 50000), follow_redirects=False)
        opened.append(browser)
        if name is not None:
            answer = browser.post("/console/login", data={"username": name, "password": PASSWORD, "next": "/console"})
            assert answer.status_code == 303, answer.text
        return browser

    yield open_on
    for browser in opened:
        browser.close()


@pytest.fixture(scope="module")
def app(ready: Services) -> FastAPI:
    return create_app(services=ready)


@pytest.fixture
def sign_in(app: FastAPI, open_browser: OpenBrowser) -> SignIn:
    """A browser on the app over `ready`, signed in as the user named (or not signed in)."""
    return lambda name=None: open_browser(app, name)


@pytest.fixture
def admin(ready: Services, sign_in: SignIn) -> tuple[str, TestClient]:
    name = person(ready, Role.ADMIN)
    return name, sign_in(name)


# Accounts


def test_an_admin_adds_a_user_who_can_then_sign_in(admin: tuple[str, TestClient], sign_in: SignIn) -> None:
    admin_name, browser = admin
    page = browser.get("/console/admin")
    assert page.status_code == 200 and text_of(page.text, f"user-{admin_name}")
    newcomer = f"qa-{uuid.uuid4().hex[:10]}"

    added = browser.post(
        "/console/admin/users",
        data={"csrf_token": csrf(page.text), "name": newcomer, "role": "qa", "password": PASSWORD},
    )

    assert added.status_code == 303 and added.headers["location"] == "/console/admin?done=user-added"
    after = browser.get(added.headers["location"])
    assert "User added." in after.text
    assert text_of(after.text, f"user-{newcomer}").split()[:2] == [newcomer, "qa"]
    assert admin_name in text_of(after.text, f"user-{newcomer}")  # created by
    assert "$argon2" not in after.text and "password_hash" not in after.text
    assert sign_in(newcomer).get("/v1/me").json()["role"] == "qa"


def test_a_message_after_a_write_comes_from_a_fixed_list_never_from_the_address(
    admin: tuple[str, TestClient],
) -> None:
    _, browser = admin
    page = browser.get("/console/admin", params={"done": "Your account is locked, call 555-0100"})
    assert page.status_code == 200
    assert "555-0100" not in page.text and 'class="flash"' not in page.text


def test_a_new_key_secret_is_shown_once_and_works_until_revoked(admin: tuple[str, TestClient], sign_in: SignIn) -> None:
    _, browser = admin
    key_name = f"helpdesk-{uuid.uuid4().hex[:8]}"

    created = browser.post(
        "/console/admin/keys",
        data={"csrf_token": csrf(browser.get("/console/admin").text), "name": key_name, "role": "service"},
    )

    assert created.status_code == 200  # rendered, not redirected: the secret never goes into an address
    assert "shown once" in created.text and created.headers["cache-control"] == "no-store"
    secret = text_of(created.text, "new-key-secret")
    assert secret.startswith("cpk_"), "no secret on the page"
    key_id = secret.split("_")[1]
    service = sign_in()  # calls with the key only, no cookie
    me = service.get("/v1/me", headers={"X-API-Key": secret}).json()
    assert (me["name"], me["role"], me["kind"]) == (f"key:{key_name}", "service", "key")

    reloaded = browser.get("/console/admin")
    assert secret not in reloaded.text and 'id="new-key-secret"' not in reloaded.text
    listed = text_of(reloaded.text, f"key-{key_id}")
    assert listed.startswith(f"{key_id} {key_name} service ") and "active" in listed

    revoked = browser.post(f"/console/admin/keys/{key_id}/revoke", data={"csrf_token": csrf(reloaded.text)})
    assert revoked.status_code == 303 and revoked.headers["location"] == "/console/admin?done=key-revoked"
    assert "revoked" in text_of(browser.get(revoked.headers["location"]).text, f"key-{key_id}")
    assert service.get("/v1/me", headers={"X-API-Key": secret}).status_code == 401

    again = browser.post(f"/console/admin/keys/{key_id}/revoke", data={"csrf_token": csrf(reloaded.text)})
    assert again.status_code == 409 and "already revoked" in again.text


def test_disabling_a_user_ends_their_session_and_their_sign_in(
    ready: Services, admin: tuple[str, TestClient], sign_in: SignIn
) -> None:
    _, browser = admin
    victim = person(ready, Role.SPECIALIST)
    theirs = sign_in(victim)
    assert theirs.get("/v1/me").json()["name"] == victim

    disabled = browser.post(
        f"/console/admin/users/{victim}/disable", data={"csrf_token": csrf(browser.get("/console/admin").text)}
    )

    assert disabled.status_code == 303 and disabled.headers["location"] == "/console/admin?done=user-disabled"
    assert "disabled" in text_of(browser.get(disabled.headers["location"]).text, f"user-{victim}")
    sent_away = theirs.get("/console/admin")
    assert sent_away.status_code == 303 and sent_away.headers["location"].startswith("/console/login?")
    refused = sign_in().post("/console/login", data={"username": victim, "password": PASSWORD, "next": "/console"})
    assert refused.status_code == 401 and "wrong user name or password" in refused.text.lower()


def test_an_admin_cannot_disable_themself_or_a_user_who_does_not_exist(
    ready: Services, admin: tuple[str, TestClient]
) -> None:
    admin_name, browser = admin
    token = csrf(browser.get("/console/admin").text)

    own = browser.post(f"/console/admin/users/{admin_name}/disable", data={"csrf_token": token})
    assert own.status_code == 422 and "cannot disable your own account" in own.text
    assert ready.accounts.user(admin_name).active

    ghost = browser.post("/console/admin/users/nobody-by-this-name/disable", data={"csrf_token": token})
    assert ghost.status_code == 404 and "no user 'nobody-by-this-name'" in html.unescape(ghost.text)


@pytest.mark.parametrize(
    ("name", "password", "status", "message"),
    [
        ("<the admin's own name>", PASSWORD, 409, "already exists"),
        ("<a new name>", "short-pw", 422, "at least 10 characters"),
        ("Not A Name", PASSWORD, 422, "must be 2 to 63 of a-z 0-9"),
    ],
)
def test_a_bad_new_user_shows_the_error_and_stores_nothing(
    ready: Services, admin: tuple[str, TestClient], name: str, password: str, status: int, message: str
) -> None:
    admin_name, browser = admin
    name = {"<the admin's own name>": admin_name, "<a new name>": f"fresh-{uuid.uuid4().hex[:8]}"}.get(name, name)
    before = ready.accounts.users()

    answer = browser.post(
        "/console/admin/users",
        data={
            "csrf_token": csrf(browser.get("/console/admin").text),
            "name": name,
            "role": "admin",
            "password": password,
        },
    )

    assert answer.status_code == status and message in html.unescape(answer.text)
    assert 'role="alert"' in answer.text and f'value="{name}"' in answer.text  # the form comes back filled in
    assert ready.accounts.users() == before


def test_a_key_without_a_name_is_refused_and_none_is_made(ready: Services, admin: tuple[str, TestClient]) -> None:
    _, browser = admin
    before = ready.accounts.keys()
    answer = browser.post(
        "/console/admin/keys",
        data={"csrf_token": csrf(browser.get("/console/admin").text), "name": "  ", "role": "service"},
    )
    assert answer.status_code == 422 and "a key needs a name" in answer.text
    assert 'id="new-key-secret"' not in answer.text and ready.accounts.keys() == before


def test_a_form_posted_without_the_pages_csrf_token_is_refused(ready: Services, admin: tuple[str, TestClient]) -> None:
    _, browser = admin
    name = f"forged-{uuid.uuid4().hex[:8]}"
    answer = browser.post("/console/admin/users", data={"name": name, "role": "admin", "password": PASSWORD})
    assert answer.status_code == 403
    assert name not in {user.name for user in ready.accounts.users()}


@pytest.mark.parametrize("role", [Role.SPECIALIST, Role.SOP_WRITER, Role.QA, Role.ADMIN])
def test_each_page_opens_for_its_roles_only(ready: Services, sign_in: SignIn, role: Role) -> None:
    browser = sign_in(person(ready, role))
    for path, roles in PAGES.items():
        assert browser.get(path).status_code == (200 if role in roles else 403), f"{role} on {path}"
        assert sign_in().get(path).headers["location"].startswith("/console/login?")  # and not without signing in


# The audit log


def test_qa_reads_the_audit_entries_of_an_admins_writes(
    ready: Services, admin: tuple[str, TestClient], sign_in: SignIn
) -> None:
    admin_name, browser = admin
    newcomer = f"spec-{uuid.uuid4().hex[:8]}"
    token = csrf(browser.get("/console/admin").text)
    browser.post(
        "/console/admin/users",
        data={"csrf_token": token, "name": newcomer, "role": "specialist", "password": PASSWORD},
    )
    browser.post(f"/console/admin/users/{newcomer}/disable", data={"csrf_token": token})
    created = browser.post("/console/admin/keys", data={"csrf_token": token, "name": "<script>alert(1)</script>"})
    secret = text_of(created.text, "new-key-secret")
    key_id = secret.split("_")[1]
    browser.post(f"/console/admin/keys/{key_id}/revoke", data={"csrf_token": token})
    qa = sign_in(person(ready, Role.QA))

    page = qa.get("/console/audit", params={"actor": admin_name})

    assert page.status_code == 200
    seen = audit_rows(page.text)
    assert [cells[ACTION] for cells in seen] == [
        "key.revoked",
        "key.created",
        "user.disabled",
        "user.created",
        "auth.signed_in",
    ]
    assert all(cells[WHO] == f"{admin_name} admin · user" for cells in seen)
    assert all(cells[FROM_WHERE].startswith("198.51.100.") for cells in seen)  # the admin's address
    assert (seen[3][TARGET], seen[3][DETAIL]) == (newcomer, '{"role":"specialist"}')
    assert seen[1][TARGET] == key_id and "<script>alert(1)</script>" not in page.text  # the key's name, escaped
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page.text and secret not in page.text

    only = qa.get("/console/audit", params={"action": "user.created", "target": newcomer})
    assert [(cells[ACTION], cells[TARGET]) for cells in audit_rows(only.text)] == [("user.created", newcomer)]


def test_the_audit_log_pages_back_through_older_entries(ready: Services, sign_in: SignIn) -> None:
    operator = Actor.operator(f"op-{uuid.uuid4().hex[:8]}")
    for n in range(57):
        ready.audit.record(AuditEntry.of(operator, AuditAction.USER_PASSWORD_SET, f"user-{n}", utcnow()))
    qa = sign_in(person(ready, Role.QA))

    first = qa.get("/console/audit", params={"actor": operator.name})
    older = re.search(r'<a href="([^"]+)" id="audit-older">', first.text)
    assert older, "no link to older entries"
    second = qa.get(html.unescape(older.group(1)))

    assert audit_rows(first.text)[0][WHO : FROM_WHERE + 1] == [
        f"{operator.name} no role · cli",
        "user.password_set",
        "user-56",
        "cli",
    ]
    targets = [cells[TARGET] for page in (first, second) for cells in audit_rows(page.text)]
    assert targets == [f"user-{n}" for n in reversed(range(57))]  # newest first, none twice, none missed
    assert 'id="audit-older"' not in second.text and 'id="audit-newest"' in second.text


def test_audit_targets_link_tickets_but_not_drafts(ready: Services, sign_in: SignIn) -> None:
    operator = Actor.operator(f"op-{uuid.uuid4().hex[:8]}")
    ready.audit.record(AuditEntry.of(operator, AuditAction.TICKET_TEXT_REVEALED, "TKT-link-me", utcnow()))
    ready.audit.record(AuditEntry.of(operator, AuditAction.DRAFT_CREATED, "DRF-plain", utcnow(), ticket="TKT-link-me"))
    page = sign_in(person(ready, Role.QA)).get("/console/audit", params={"actor": operator.name}).text
    assert '<a href="/console/tickets/TKT-link-me">TKT-link-me</a>' in page
    assert "DRF-plain" in page and "/console/tickets/DRF-plain" not in page


def test_an_unknown_audit_action_is_a_clear_error(ready: Services, sign_in: SignIn) -> None:
    answer = sign_in(person(ready, Role.QA)).get("/console/audit", params={"action": "ticket.burned"})
    assert answer.status_code == 422 and "Unknown action" in answer.text


# The SOP library


def test_the_sop_page_lists_the_library_with_its_kept_versions(ready: Services, sign_in: SignIn) -> None:
    page = sign_in(person(ready, Role.SOP_WRITER)).get("/console/sop")

    assert page.status_code == 200
    assert sorted(ids(page.text, "doc-")) == sorted(ready.library.documents)
    doc = ready.library.documents["SOP-CR-03"]
    kept = len(ready.sop_versions.versions("SOP-CR-03"))
    assert kept >= 1
    line = text_of(page.text, "doc-SOP-CR-03")
    assert line.startswith(f"SOP-CR-03 {doc.title} sop {doc.lob} {doc.version} {kept} ")
    # Last: the date last reviewed, and the open draft revisions (other tests of the shared services save some).
    assert re.search(rf"{doc.owner} active in force {doc.effective_date.isoformat()} never \d+$", line), line
    assert f'href="/console/sop/SOP-CR-03/versions/{doc.version}"' in page.text
    assert 'href="/console/sop/documents/SOP-CR-03"' in page.text


def test_a_sop_writer_ingests_from_the_console_and_it_is_audited(ready: Services, sign_in: SignIn) -> None:
    writer = person(ready, Role.SOP_WRITER)
    browser = sign_in(writer)

    answer = browser.post("/console/sop/ingest", data={"csrf_token": csrf(browser.get("/console/sop").text)})

    assert answer.status_code == 200 and 'id="ingest-report"' in answer.text
    assert text_of(answer.text, "report-unchanged") == f"{len(ready.library.active())} document(s)"
    [entry] = ready.audit.entries(action=AuditAction.KB_INGESTED, actor=writer)
    assert entry.role == "sop_writer" and entry.detail["added"] == [] and entry.detail["updated"] == []


@pytest.fixture
def small_library(tmp_path: Path, embeddings: LocalMiniLMEmbeddings) -> Iterator[tuple[Services, Path]]:
    """Services of their own over a copy of part of the SOP folder (a policy and an SOP citing its figures:
    enough to load, quick to embed), so the broken file never reaches the shared services."""
    folder = tmp_path / "sop"
    folder.mkdir()
    for name in ("taxonomy.yaml", "POL-REWARDS.md", "SOP-CR-03.md"):
        shutil.copy(SOP_DIR / name, folder / name)
    services = build_services(make_settings(tmp_path / "data", sop_dir=folder), embeddings=embeddings)
    yield services, folder
    services.store.close()


def test_an_invalid_sop_file_is_shown_and_the_index_is_left_as_it_was(
    small_library: tuple[Services, Path], open_browser: OpenBrowser
) -> None:
    services, folder = small_library
    writer = person(services, Role.SOP_WRITER)
    browser = open_browser(create_app(services=services), writer)
    token = csrf(browser.get("/console/sop").text)
    first = browser.post("/console/sop/ingest", data={"csrf_token": token})
    assert first.status_code == 200 and text_of(first.text, "report-added") == "POL-REWARDS, SOP-CR-03"
    chunks = services.index.count()
    assert chunks > 0
    sop = folder / "SOP-CR-03.md"
    sop.write_text(sop.read_text(encoding="utf-8").replace("lob: creator_rewards", "lob: creator_rewardz"))

    refused = browser.post("/console/sop/ingest", data={"csrf_token": token})

    assert refused.status_code == 422 and "Nothing was ingested" in refused.text
    assert "SOP-CR-03.md: lob: unknown LOB 'creator_rewardz'" in html.unescape(refused.text)
    assert 'id="ingest-report"' not in refused.text and text_of(refused.text, "doc-SOP-CR-03")
    assert services.index.count() == chunks
    assert len(services.audit.entries(action=AuditAction.KB_INGESTED, actor=writer)) == 1

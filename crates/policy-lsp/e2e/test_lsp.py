"""End-to-end tests: the real `policyc lsp` binary driven by pytest-lsp.

Run by `.ci/lsp-e2e.sh`, which builds policyc and sets POLICYC to its path.
"""

import os
import subprocess
import sys

import pytest
import pytest_lsp
from lsprotocol import types as t
from pytest_lsp import ClientServerConfig, LanguageClient

POLICYC = os.environ.get("POLICYC", "policyc")
URI = "file:///work/demo.policy"

DEMO = """tiers free < team < enterprise

/// Create and edit files.
permission files.manage "Gérer les fichiers 😀"
permission billing.manage "Manage billing" on >= team

/// The basic level of access.
role member "Membré 😀" {
  grants files.manage
}

role admin "Admin" {
  inherits member
  grants billing.manage
}
"""


def caps(encodings):
    general = t.GeneralClientCapabilities(position_encodings=encodings)
    return t.ClientCapabilities(general=general)


def server_config():
    return ClientServerConfig(server_command=[POLICYC, "lsp"])


@pytest_lsp.fixture(config=server_config())
async def client(lsp_client: LanguageClient):
    """A client that offers only UTF-16, the protocol's default."""
    result = await lsp_client.initialize_session(
        t.InitializeParams(capabilities=caps([t.PositionEncodingKind.Utf16]))
    )
    assert result.capabilities.position_encoding == t.PositionEncodingKind.Utf16
    yield
    await lsp_client.shutdown_session()


@pytest_lsp.fixture(config=server_config())
async def utf8_client(lsp_client: LanguageClient):
    """A client that offers UTF-8 first."""
    result = await lsp_client.initialize_session(
        t.InitializeParams(
            capabilities=caps([t.PositionEncodingKind.Utf8, t.PositionEncodingKind.Utf16])
        )
    )
    assert result.capabilities.position_encoding == t.PositionEncodingKind.Utf8
    yield
    await lsp_client.shutdown_session()


@pytest_lsp.fixture(config=server_config())
async def watching_client(lsp_client: LanguageClient):
    """A client that lets the server register file watchers (as VS Code does)."""
    capabilities = t.ClientCapabilities(
        workspace=t.WorkspaceClientCapabilities(
            did_change_watched_files=t.DidChangeWatchedFilesClientCapabilities(
                dynamic_registration=True
            )
        )
    )
    lsp_client.registrations = []

    @lsp_client.feature(t.CLIENT_REGISTER_CAPABILITY)
    def register(params: t.RegistrationParams):
        lsp_client.registrations.extend(params.registrations)

    await lsp_client.initialize_session(t.InitializeParams(capabilities=capabilities))
    yield
    await lsp_client.shutdown_session()


async def open_doc(client, text, version=1):
    client.text_document_did_open(
        t.DidOpenTextDocumentParams(
            text_document=t.TextDocumentItem(uri=URI, language_id="policy", version=version, text=text)
        )
    )
    await client.wait_for_notification(t.TEXT_DOCUMENT_PUBLISH_DIAGNOSTICS)
    return client.diagnostics[URI]


def position(text, needle, nth=0, utf16=True, delta=0):
    """The LSP position of the nth occurrence of needle (plus delta characters)."""
    off = -1
    for _ in range(nth + 1):
        off = text.index(needle, off + 1)
    before = text[:off]
    line = before.count("\n")
    col_text = before[before.rfind("\n") + 1 :]
    if utf16:
        col = len(col_text.encode("utf-16-le")) // 2
    else:
        col = len(col_text.encode("utf-8"))
    return t.Position(line=line, character=col + delta)


def apply(text, edits, utf16=True):
    """Applies LSP text edits to text (columns in UTF-16 units or bytes)."""
    lines = text.split("\n")

    def offset(p):
        starts = [0]
        for ln in lines[:-1]:
            starts.append(starts[-1] + len(ln) + 1)
        if p.line >= len(lines):
            return len(text)
        line = lines[p.line]
        units = 0
        for i, ch in enumerate(line):
            if units >= p.character:
                return starts[p.line] + i
            units += (len(ch.encode("utf-16-le")) // 2) if utf16 else len(ch.encode("utf-8"))
        return starts[p.line] + len(line)

    spans = sorted(((offset(e.range.start), offset(e.range.end), e.new_text) for e in edits), reverse=True)
    for s, e, new in spans:
        text = text[:s] + new + text[e:]
    return text


async def test_typo_gives_p0201_with_a_quick_fix_and_the_fix_clears_it(client: LanguageClient):
    text = DEMO.replace("inherits member", "inherits membr")
    diags = await open_doc(client, text)
    assert len(diags) == 1, diags
    d = diags[0]
    assert d.code == "P0201"
    assert d.severity == t.DiagnosticSeverity.Error
    start = position(text, "membr")
    assert d.range == t.Range(start=start, end=t.Position(line=start.line, character=start.character + 5))
    # No docs URL is configured (POLICYC_DOCS_URL unset): no link, rather
    # than a placeholder one.
    assert d.code_description is None

    actions = await client.text_document_code_action_async(
        t.CodeActionParams(
            text_document=t.TextDocumentIdentifier(uri=URI),
            range=d.range,
            context=t.CodeActionContext(diagnostics=[d]),
        )
    )
    fix = actions[0]
    assert fix.title == "replace `membr` with `member`"
    assert fix.kind == t.CodeActionKind.QuickFix
    fixed = apply(text, fix.edit.changes[URI])
    assert fixed == DEMO

    client.text_document_did_change(
        t.DidChangeTextDocumentParams(
            text_document=t.VersionedTextDocumentIdentifier(uri=URI, version=2),
            content_changes=[t.TextDocumentContentChangeWholeDocument(text=fixed)],
        )
    )
    await client.wait_for_notification(t.TEXT_DOCUMENT_PUBLISH_DIAGNOSTICS)
    assert list(client.diagnostics[URI]) == []


async def test_incremental_edit_clears_the_diagnostic(client: LanguageClient):
    text = DEMO.replace("inherits member", "inherits membr")
    await open_doc(client, text)
    at = position(text, "membr", delta=4)
    client.text_document_did_change(
        t.DidChangeTextDocumentParams(
            text_document=t.VersionedTextDocumentIdentifier(uri=URI, version=2),
            content_changes=[
                t.TextDocumentContentChangePartial(range=t.Range(start=at, end=at), text="e")
            ],
        )
    )
    await client.wait_for_notification(t.TEXT_DOCUMENT_PUBLISH_DIAGNOSTICS)
    assert list(client.diagnostics[URI]) == []


async def test_hover_on_a_role_shows_effective_permissions_per_tier(client: LanguageClient):
    await open_doc(client, DEMO)
    hover = await client.text_document_hover_async(
        t.HoverParams(text_document=t.TextDocumentIdentifier(uri=URI), position=position(DEMO, "admin", delta=2))
    )
    value = hover.contents.value
    assert value.startswith("**Admin** — role `admin`"), value
    free, team, ent = value.index("**free**"), value.index("**team**"), value.index("**enterprise**")
    assert "- `files.manage` — inherited through `member`, granted at line 9" in value[free:team]
    assert "billing.manage" not in value[free:team]
    assert "- `billing.manage` — granted at line 14" in value[team:ent]
    assert "- `billing.manage` — granted at line 14" in value[ent:]


async def test_goto_definition_from_an_inherits_item(client: LanguageClient):
    await open_doc(client, DEMO)
    result = await client.text_document_definition_async(
        t.DefinitionParams(
            text_document=t.TextDocumentIdentifier(uri=URI),
            position=position(DEMO, "member\n  grants billing", delta=3),
        )
    )
    start = position(DEMO, 'member "Membré')
    assert len(result) == 1
    assert result[0].uri == URI
    assert result[0].range.start == start
    assert result[0].range.end == t.Position(line=start.line, character=start.character + 6)


async def test_completion_after_inherits_lists_roles(client: LanguageClient):
    text = DEMO.replace("  inherits member\n", "  inherits \n")
    await open_doc(client, text)
    result = await client.text_document_completion_async(
        t.CompletionParams(
            text_document=t.TextDocumentIdentifier(uri=URI),
            position=position(text, "inherits ", delta=9),
        )
    )
    items = result if isinstance(result, list) else result.items
    # The role being declared (`admin`) is not offered as its own parent.
    assert [i.label for i in items] == ["member"]
    assert items[0].detail == "Membré 😀"


async def test_formatting_returns_the_policyc_fmt_text(client: LanguageClient, tmp_path):
    messy = DEMO.replace("  grants files.manage", "grants    files.manage   // all of them").replace(
        "tiers free < team", "tiers   free<team"
    )
    await open_doc(client, messy)
    edits = await client.text_document_formatting_async(
        t.DocumentFormattingParams(
            text_document=t.TextDocumentIdentifier(uri=URI),
            options=t.FormattingOptions(tab_size=2, insert_spaces=True),
        )
    )
    formatted = apply(messy, edits)
    fmt = subprocess.run([POLICYC, "fmt", "-"], input=messy.encode(), capture_output=True, check=True)
    assert formatted == fmt.stdout.decode()
    assert formatted != messy


async def test_utf16_position_after_a_non_ascii_label_maps_to_the_right_token(client: LanguageClient):
    text = 'permission files.manage "Gérer 😀"\nrole member "Membré 😀" { grants files.manage }\n'
    await open_doc(client, text)
    # The second `files.manage` sits after `é` (1 unit) and `😀` (2 units) on its line.
    at = position(text, "files.manage", nth=1, utf16=True)
    assert at.character == len('role member "Membré 😀" { grants ') + 1
    hover = await client.text_document_hover_async(
        t.HoverParams(text_document=t.TextDocumentIdentifier(uri=URI), position=t.Position(line=at.line, character=at.character + 1))
    )
    assert hover.contents.value.startswith("**Gérer 😀** — permission `files.manage`")
    assert hover.range == t.Range(start=at, end=t.Position(line=at.line, character=at.character + 12))
    # The same token through UTF-8 columns would be 3 further along; here it is past the token.
    wrong = t.Position(line=at.line, character=at.character + 13)
    hover = await client.text_document_hover_async(
        t.HoverParams(text_document=t.TextDocumentIdentifier(uri=URI), position=wrong)
    )
    assert hover is None or "files.manage" not in hover.contents.value


async def test_utf8_columns_when_the_client_offers_utf8(utf8_client: LanguageClient):
    text = 'permission files.manage "Gérer 😀"\nrole member "Membré 😀" { grants files.manage }\n'
    await open_doc(utf8_client, text)
    at = position(text, "files.manage", nth=1, utf16=False)
    result = await utf8_client.text_document_definition_async(
        t.DefinitionParams(text_document=t.TextDocumentIdentifier(uri=URI), position=at)
    )
    assert result[0].range.start == t.Position(line=0, character=len("permission "))
    hover = await utf8_client.text_document_hover_async(
        t.HoverParams(text_document=t.TextDocumentIdentifier(uri=URI), position=at)
    )
    assert hover.range.start == at


async def test_half_typed_text_never_kills_the_server(client: LanguageClient):
    for i in range(0, len(DEMO), 7):
        part = DEMO[:i]
        await open_doc(client, part, version=i + 1)
        lines = part.split("\n")
        at = t.Position(line=len(lines) - 1, character=len(lines[-1].encode("utf-16-le")) // 2)
        await client.text_document_completion_async(
            t.CompletionParams(text_document=t.TextDocumentIdentifier(uri=URI), position=at)
        )
        await client.text_document_hover_async(
            t.HoverParams(text_document=t.TextDocumentIdentifier(uri=URI), position=at)
        )
    diags = await open_doc(client, DEMO, version=1000)
    assert list(diags) == []


async def test_a_project_file_changed_on_disk_is_compiled_with_the_open_one(
    watching_client: LanguageClient, tmp_path
):
    """A policy project: the open file is compiled with the others from
    disk, and a change on disk to a file no editor has open, reported by
    the client's file watcher, gives new diagnostics without an edit."""
    root = tmp_path / "acme"
    root.mkdir()
    (root / "policyc.toml").write_text('[policy]\nname = "acme"\n')
    (root / "permissions.policy").write_text('permission files.manage "Manage files"\n')
    roles = root / "roles.policy"
    text = 'role member "Member" {\n  grants files.manage\n}\n'
    roles.write_text(text)
    uri = roles.as_uri()
    watching_client.text_document_did_open(
        t.DidOpenTextDocumentParams(
            text_document=t.TextDocumentItem(uri=uri, language_id="policy", version=1, text=text)
        )
    )
    await watching_client.wait_for_notification(t.TEXT_DOCUMENT_PUBLISH_DIAGNOSTICS)
    assert list(watching_client.diagnostics[uri]) == []
    # The server asked to be told of policy files and manifests.
    [registration] = watching_client.registrations
    assert registration.method == t.WORKSPACE_DID_CHANGE_WATCHED_FILES
    globs = [w["globPattern"] for w in registration.register_options["watchers"]]
    assert globs == ["**/*.policy", "**/policyc.toml"]

    # The other file renames the permission: the open file's grant breaks.
    other = root / "permissions.policy"
    other.write_text('permission files.edit "Manage files"\n')
    watching_client.workspace_did_change_watched_files(
        t.DidChangeWatchedFilesParams(
            changes=[t.FileEvent(uri=other.as_uri(), type=t.FileChangeType.Changed)]
        )
    )
    for _ in range(5):
        await watching_client.wait_for_notification(t.TEXT_DOCUMENT_PUBLISH_DIAGNOSTICS)
        if watching_client.diagnostics.get(uri):
            break
    codes = [d.code for d in watching_client.diagnostics[uri]]
    assert codes == ["P0202"], codes

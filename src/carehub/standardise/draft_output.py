"""A draft feed mapping as YAML with comments, and as a report for the steward.

Every text that comes from the partner's file (column names, local code values) is written as a
double-quoted YAML string in printable ASCII, which YAML reads back exactly, so no name can break
the YAML or smuggle a line into it. The YAML leaves what carehub could not decide as commented-out
TODOs: it loads with ``load_model(FeedMapping, ...)`` once the steward fills them in.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from carehub.standardise.drafting import Draft, FieldDraft


def quoted(text: str) -> str:
    """A YAML double-quoted scalar of any text, in printable ASCII (so also safe in a comment):
    YAML's own escapes, which read back exactly, astral characters included."""
    out = []
    for ch in text:
        code = ord(ch)
        if ch in '"\\':
            out.append("\\" + ch)
        elif 0x20 <= code < 0x7F:
            out.append(ch)
        elif code <= 0xFF:
            out.append(f"\\x{code:02x}")
        elif code <= 0xFFFF:
            out.append(f"\\u{code:04x}")
        else:
            out.append(f"\\U{code:08x}")
    return '"' + "".join(out) + '"'


def _printable(text: str) -> str:
    """Comment text on one line: a partner's column name could hold a line break."""
    return "".join(ch if ch.isprintable() else "?" for ch in text)


def _sample_words(draft: Draft) -> str:
    rows = f"{draft.sample_rows:,} rows"
    return f"the first {rows}" if draft.more_rows else f"all {rows}"


def _codes(draft: Draft, field: str) -> str:
    codes = draft.code_sets.get(field, {})
    return ", ".join(f"{quoted(c)} {label}" for c, label in codes.items())


def _unmapped_lines(draft: Draft, f: FieldDraft, *, with_key: bool) -> list[str]:
    """Commented-out translations to fill in. Deleting the "# " of each entry line (and of the
    ``values:`` key when the draft has no translations) leaves valid YAML."""
    indent, entry = ("    ", "    #   ") if with_key else ("      ", "      # ")
    lines = [
        f"{indent}# TODO translate these sample values to codes of {f.name} (or fix them at "
        "source) and uncomment them",
        f"{indent}# codes of {f.name}: {_codes(draft, f.name)}",
    ]
    if with_key:
        lines.append("    # values:")
    lines += [f'{entry}{quoted(u.value)}: ""  # {u.rows:,} sample rows' for u in f.unmapped]
    if f.unmapped_hidden:
        lines.append(f"{indent}# ... and {f.unmapped_hidden} more distinct values, not listed")
    return lines


def _field_yaml(draft: Draft, f: FieldDraft) -> list[str]:
    required = " (required)" if f.required else ""
    if f.column is None:
        return [
            f"  # {f.name}{required}: TODO no column matched. Give the column that holds it, or a",
            "  # constant for every row, and uncomment:",
            f"  # {f.name}:",
            '  #   column: ""  # or  value: ""',
        ]
    head = f"  # {f.name}{required}: {f.confidence} confidence ({f.score:.2f})"
    if f.evidence:
        head += f": {f.evidence[0]}"
    notes = [f"  #   note: {_printable(n)}" for n in f.notes]
    if f.problem:
        notes.append(f"  #   PROBLEM: {_printable(f.problem)}")
    lines = [_printable(head), *notes, f"  {f.name}:"]
    lines.append(f"    column: {quoted(f.column)}")
    if f.format:
        lines.append(f"    format: {quoted(f.format)}")
    if f.translations:
        lines.append("    values:")
        lines += [
            f"      {quoted(local)}: {quoted(code)}  # obvious: the same code or label"
            for local, code in f.translations.items()
        ]
        if f.unmapped or f.unmapped_hidden:
            lines += _unmapped_lines(draft, f, with_key=False)
    elif f.unmapped or f.unmapped_hidden:
        lines += _unmapped_lines(draft, f, with_key=True)
    return lines


def render_yaml(draft: Draft) -> str:
    lines = [
        f"# Draft feed mapping of {draft.organisation}'s {draft.dataset} file, proposed by carehub",
        f"# from {quoted(draft.source)} ({_sample_words(draft)}). Check every field and fill in",
        "# each TODO; try it with `carehub mappings test` on a real file, then install it with",
        "# `carehub mappings add`.",
        f"organisation: {quoted(draft.organisation)}",
        f"dataset: {quoted(draft.dataset)}",
        "version: 1",
        f"description: {quoted('drafted from ' + draft.source)}",
    ]
    if draft.sheet is not None:
        lines += [f"sheet: {quoted(draft.sheet)}", f"header_row: {draft.header_row}"]
    for problem in draft.problems:
        lines.append(f"# PROBLEM: {_printable(problem)}")
    lines.append("fields:")
    for f in draft.fields:
        if f.column is not None or f.required:
            lines += _field_yaml(draft, f)
    left_out = [f.name for f in draft.fields if f.column is None and not f.required]
    if left_out:
        lines.append(f"  # not matched, so left empty (optional): {', '.join(left_out)}")
    if draft.unused_columns:
        unused = ", ".join(quoted(c) for c in draft.unused_columns)
        lines.append(f"# columns of the file not used: {unused}")
    return "\n".join(lines) + "\n"


def render_report(draft: Draft) -> list[str]:
    lines = [
        f"Draft mapping of {draft.source} ({_sample_words(draft)}) to {draft.dataset} for "
        f"{draft.organisation}"
        + (f", sheet {draft.sheet!r}, header on row {draft.header_row}" if draft.sheet else ""),
        "  (* required)",
    ]
    width = max((len(f.column or "") for f in draft.fields), default=0) + 2
    for f in draft.fields:
        name = f.name + ("*" if f.required else "")
        column = repr(f.column) if f.column is not None else "-"
        score = f"{f.confidence} {f.score:.2f}" if f.column else "no match"
        extra = f"  format {f.format or 'ISO 8601'}" if f.column and f.type == "timestamp" else ""
        lines.append(f"  {name:<30} {column:<{width}} {score}{extra}")
        lines += [f"      {e}" for e in f.evidence]
    coded = [f for f in draft.fields if f.translations or f.unmapped or f.unmapped_hidden]
    if coded:
        lines.append("Code translations (local value -> code):")
    for f in coded:
        lines.append(f"  {f.name} ({f.column}): codes {_codes(draft, f.name)}")
        lines += [
            f"    {quoted(v)} -> {quoted(c)} (obvious)" for v, c in (f.translations or {}).items()
        ]
        lines += [f"    {quoted(u.value)} -> ? ({u.rows:,} sample rows)" for u in f.unmapped]
        if f.unmapped_hidden:
            lines.append(f"    ... and {f.unmapped_hidden} more distinct values, not listed")
    if draft.unused_columns:
        lines.append("Columns not used: " + ", ".join(map(repr, draft.unused_columns)))
    lines += ["Problems:", *(f"  - {p}" for p in draft.problems)] if draft.problems else []
    lines += ["Check:", *(f"  - {w}" for w in draft.warnings)] if draft.warnings else []
    return lines

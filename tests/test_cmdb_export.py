"""docs/cmdb-export.sql and docs/cmdb-discovery.sql (issue 15, item 7).

Both must parse as T-SQL, statement by statement (sqlglot's T-SQL dialect; its
IF support is partial, so IF blocks are split here into their condition and
body, and the dynamic SQL behind each sys.columns guard is unescaped and parsed
too). The export writes only to its own temporary table, its result columns
are sitegate standard CSV columns, and docs/cmdb-export.md says, for every
standard column, whether the export fills it, from where, and how sure that is.
The discovery queries only read.
"""
from __future__ import annotations

import re
from pathlib import Path

import pytest

from sitegate.facts.importers._columns import STANDARD_COLUMNS

sqlglot = pytest.importorskip("sqlglot", reason="sqlglot (test extra) parses the shipped T-SQL")
exp = sqlglot.exp

DOCS = Path(__file__).resolve().parents[1] / "docs"
EXPORT = (DOCS / "cmdb-export.sql").read_text("utf-8")
DISCOVERY = (DOCS / "cmdb-discovery.sql").read_text("utf-8")
DOC = (DOCS / "cmdb-export.md").read_text("utf-8")


def _strip_comments(sql: str) -> str:
    out, i, n = [], 0, len(sql)
    while i < n:
        if sql.startswith("--", i):
            j = sql.find("\n", i)
            i = n if j < 0 else j
        elif sql[i] == "'":
            j = i + 1
            while j < n:
                if sql[j] == "'" and sql.startswith("''", j):
                    j += 2
                    continue
                if sql[j] == "'":
                    break
                j += 1
            out.append(sql[i:j + 1])
            i = j + 1
        else:
            out.append(sql[i])
            i += 1
    return "".join(out)


def _split(sql: str) -> list[str]:
    """Top-level statements: ';' outside strings, brackets, BEGIN ... END and CASE ... END."""
    stmts, cur, depth, i, n = [], [], 0, 0, len(sql)
    while i < n:
        c = sql[i]
        if c == "'":
            j = i + 1
            while j < n and not (sql[j] == "'" and not sql.startswith("''", j)):
                j += 2 if sql.startswith("''", j) else 1
            cur.append(sql[i:j + 1])
            i = j + 1
            continue
        if c == "[":
            j = sql.index("]", i)
            cur.append(sql[i:j + 1])
            i = j + 1
            continue
        m = re.match(r"(BEGIN|CASE|END)\b", sql[i:], re.I) if (i == 0 or not (sql[i - 1].isalnum() or sql[i - 1] in "_@#")) else None
        if m:
            depth += -1 if m.group(1).upper() == "END" else 1
            cur.append(m.group(1))
            i += len(m.group(1))
            continue
        if c == ";" and depth == 0:
            if "".join(cur).strip():
                stmts.append("".join(cur).strip())
            cur = []
        else:
            cur.append(c)
        i += 1
    if "".join(cur).strip():
        stmts.append("".join(cur).strip())
    return stmts


def _parse_all(sql: str) -> list[exp.Expression]:
    """Every statement parsed; IF blocks and dynamic SQL are opened up."""
    parsed = []
    for stmt in _split(_strip_comments(sql)):
        m = re.match(r"(?is)^IF\s+(.*?)\s+BEGIN\s+(.*)\s+END$", stmt)
        if m:
            cond = sqlglot.parse_one(f"SELECT CASE WHEN {m.group(1)} THEN 1 END", read="tsql")
            assert not isinstance(cond, exp.Command), stmt
            parsed += _parse_all(m.group(2))
            continue
        dyn = re.match(r"(?is)^EXEC\s+sp_executesql\s+N'(.*)'$", stmt)
        if dyn:
            parsed += _parse_all(dyn.group(1).replace("''", "'"))
            continue
        tree = sqlglot.parse_one(stmt, read="tsql")
        assert tree is not None and not isinstance(tree, exp.Command), f"not parsed as T-SQL: {stmt[:200]}"
        parsed.append(tree)
    return parsed


def test_export_parses_as_tsql() -> None:
    stmts = _parse_all(EXPORT)
    kinds = [type(s).__name__ for s in stmts]
    assert kinds.count("Update") >= 10 and "Create" in kinds and kinds[-2:] == ["Select", "Drop"], kinds


def test_discovery_parses_and_only_reads() -> None:
    stmts = _parse_all(DISCOVERY)
    assert [type(s).__name__ for s in stmts] == ["Set"] + ["Select"] * 7


def test_export_writes_only_to_its_own_temporary_table() -> None:
    written = set()
    for s in _parse_all(EXPORT):
        if isinstance(s, (exp.Delete, exp.Merge)):
            raise AssertionError(s.sql("tsql"))
        if isinstance(s, exp.Update):
            # UPDATE o SET ... FROM #sitegate_out AS o: the target is an alias of a FROM table.
            aliases = {t.alias_or_name: t.name for t in s.find_all(exp.Table)}
            written.add(aliases.get(s.this.name, s.this.name).lstrip("#"))
        elif isinstance(s, (exp.Insert, exp.Create, exp.Drop)):
            target = s.find(exp.Table)
            assert target is not None, s.sql("tsql")
            written.add(target.name.lstrip("#"))
            if target.name == "candidates":  # sqlglot names the table variable @candidates so
                assert "@candidates" in s.sql("tsql"), s.sql("tsql")
    assert written == {"sitegate_out", "candidates"}, written


def _result_columns() -> list[str]:
    final = [s for s in _parse_all(EXPORT) if isinstance(s, exp.Select)][-1]
    return [e.alias_or_name for e in final.expressions]


def test_export_columns_are_standard_columns() -> None:
    cols = _result_columns()
    assert len(cols) == len(set(cols))
    assert set(cols) <= set(STANDARD_COLUMNS), set(cols) - set(STANDARD_COLUMNS)
    assert {"name", "resource_guid", "asset_status", "agent_version", "managed"} <= set(cols)


def _doc_rows() -> dict[str, tuple[str, str]]:
    rows: dict[str, tuple[str, str]] = {}
    for line in DOC.splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if len(cells) == 4 and cells[0].startswith("`"):
            for col in re.findall(r"`([a-z_]+)`", cells[0]):
                rows[col] = (cells[1], cells[2])
    return rows


def test_doc_covers_every_standard_column_and_matches_the_export() -> None:
    rows = _doc_rows()
    assert set(rows) == set(STANDARD_COLUMNS), set(STANDARD_COLUMNS) ^ set(rows)
    filled = {c for c, (src, _) in rows.items() if not src.startswith("not emitted")}
    assert filled == set(_result_columns())
    for col, (src, confidence) in rows.items():
        assert confidence in (("high", "medium", "low") if col in filled else ("-",)), (col, confidence)


def test_doc_says_what_the_cmdb_cannot_give() -> None:
    rows = _doc_rows()
    assert "no standard inventory holds the .NET Release value" in rows["dotnet_release"][0]
    assert "no standard inventory holds IIS role services" in rows["iis_features"][0]


def test_export_does_not_start_from_vcomputer() -> None:
    code = _strip_comments(EXPORT)
    assert "RM_ResourceComputer" in code and not re.search(r"\bvComputer\b(?!Resource)", code)

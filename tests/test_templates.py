"""Template mistakes that render without an error and show on the page."""

from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_no_comment_tag_runs_past_its_line():
    """Django ends a {# #} comment on its own line: one that goes on is printed to the user."""
    unclosed = []
    for path in sorted((ROOT / "templates").rglob("*")):
        if not path.is_file():
            continue
        for number, line in enumerate(path.read_text().splitlines(), start=1):
            opened = line.rfind("{#")
            if opened != -1 and "#}" not in line[opened:]:
                unclosed.append(f"{path.relative_to(ROOT)}:{number}")

    assert unclosed == [], "use {% comment %} for a comment of more than one line"

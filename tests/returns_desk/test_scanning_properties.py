"""Scan-code parsing, for any text a scanner or a keyboard can send."""

import pytest
from hypothesis import given
from hypothesis import strategies as st

from returns_desk.scanning import MAX_CODE_LENGTH, BadScan, parse_scan


@given(st.text(max_size=200))
def test_parse_scan_answers_a_canonical_code_or_bad_scan_and_nothing_else(raw):
    try:
        code = parse_scan(raw)
    except BadScan as refusal:
        assert str(refusal)
        return
    assert 0 < len(code) <= MAX_CODE_LENGTH
    assert all(" " <= char <= "~" for char in code)
    assert code == code.strip() == code.upper()
    assert parse_scan(code) == code


@pytest.mark.parametrize("raw", ["ß" * 3, "ı", "ſ", "\x00LPN", "LPN\u200b"])
def test_parse_scan_refuses_characters_that_upper_case_into_ascii(raw):
    with pytest.raises(BadScan):
        parse_scan(raw)

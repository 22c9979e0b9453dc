"""Pages in one language: t("Bahasa Indonesia", "English") of two literals is chosen when a
template is compiled (api.pages), anything else stays a call made at render."""

from __future__ import annotations

from pathlib import Path

import pytest

from api.pages import TEMPLATES, TEXT_PAIR

SOURCE = """{{ t("Simpan", "Save") }}|{{ t('Catatan PPK', 'PPK\\'s note') }}|{{ t(
  "baris
   dua", "two
   lines") }}|{{ t("a \\"kutip\\"", "a \\"quote\\"") }}|{{ t(x, "y") }}|{{ o.t("p", "q") }}"""


@pytest.mark.parametrize("lang, expected", [
    ("id", 'Simpan|Catatan PPK|baris\n   dua|a "kutip"|X|O'),
    ("en", 'Save|PPK\'s note|two\n   lines|a "quote"|y|O'),
])
def test_text_pairs_are_chosen_at_compile_time(lang: str, expected: str) -> None:
    class Other:
        def t(self, a: str, b: str) -> str:
            return "O"

    def t(id_text: str, en_text: str) -> str:
        return en_text if lang == "en" else id_text

    template = TEMPLATES[lang].env.from_string(SOURCE)
    assert template.render(t=t, x="X", o=Other()).replace("&#34;", '"').replace(
        "&#39;", "'") == expected
    # the literal pairs are gone from the compiled source; the call of a variable is not
    compiled = TEMPLATES[lang].env.preprocess(SOURCE)
    assert compiled.count("t(") == 2  # t(x, "y") and o.t("p", "q")
    assert ("Save" in compiled, "Simpan" in compiled) == ((False, True) if lang == "id"
                                                          else (True, False))


def test_a_chosen_text_is_escaped_like_any_other() -> None:
    template = TEMPLATES["en"].env.from_string('{{ t("a<b", "c & <d>") }}')
    assert template.render() == "c &amp; &lt;d&gt;"


def test_every_template_compiles_in_both_languages() -> None:
    root = Path(TEMPLATES["id"].env.loader.searchpath[0])  # type: ignore[union-attr]
    names = [p.relative_to(root).as_posix() for p in root.rglob("*.html")]
    assert len(names) > 40
    for lang in ("id", "en"):
        for name in names:
            TEMPLATES[lang].env.get_template(name)
    pairs = sum(len(TEXT_PAIR.findall((root / n).read_text())) for n in names)
    assert pairs > 1000  # nearly every text of every page is such a pair

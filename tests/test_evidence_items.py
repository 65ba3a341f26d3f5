"""上报资料 split into items, and which items the evidence covers."""

from __future__ import annotations

from knowledge.evidence_items import EvidenceNote, material_items, missing_items

TWO = "(1) 本级政府或上一级政府加强信用监管的规章或文件；(2) 本级政府及职能部门对失信主体开展失信惩戒的情况说明。"


def test_items_are_split_on_their_markers() -> None:
    assert material_items(TWO) == [
        "(1) 本级政府或上一级政府加强信用监管的规章或文件",
        "(2) 本级政府及职能部门对失信主体开展失信惩戒的情况说明。",
    ]
    assert material_items("1.本部门权责清单；2.动态调整的情况说明") == ["1.本部门权责清单", "2.动态调整的情况说明"]
    assert material_items("本单位严控规范性文件发文数量的相关情况说明。") == [
        "本单位严控规范性文件发文数量的相关情况说明。"
    ]
    assert material_items("不需提供材料") == []


def test_a_caption_naming_an_item_covers_it() -> None:
    assert missing_items(TWO, [EvidenceNote("（1）信用监管文件", "a.pdf")]) == (
        2,
        ["(2) 本级政府及职能部门对失信主体开展失信惩戒的情况说明。"],
    )
    assert missing_items(TWO, [EvidenceNote("失信主体开展失信惩戒的情况说明", "b.pdf")])[1] == [
        "(1) 本级政府或上一级政府加强信用监管的规章或文件"
    ]
    assert missing_items(TWO, [EvidenceNote("", "材料2.pdf"), EvidenceNote("(1)", "x.pdf")]) == (2, [])


def test_one_item_is_covered_by_any_evidence_even_on_paper() -> None:
    one = "本单位严控规范性文件发文数量的相关情况说明。"
    assert missing_items(one, []) == (1, [one])
    assert missing_items(one, [EvidenceNote("涉密，实地核验时提供", "纸质材料（实地核验时提供）", paper=True)]) == (
        1,
        [],
    )

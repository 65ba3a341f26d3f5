"""Golden tests of the five source documents: exact counts and spot-checked indicators.

The spot checks were read off the source text by hand, including the rows the export
mangles: 000 #9–#11 (numbers standing apart), #21–#22, 001 #7 and #11 (two persons, two
units), 002 #9 (parallel unit/person columns), #36 (牵头/配合), #46 (empty cell under a
merged owner), #84, ★2, and 004 party #7–#10 (落实单位/检查标准 one row off, re-aligned
by the points of each 检查标准).
"""

from __future__ import annotations

from collections import Counter

import pytest

from knowledge.bundled import sample_files
from knowledge.files import read_document_bytes
from knowledge.model import ParsedDocument

SPOT_CHECKS = [
    (
        "000",
        "",
        "1",
        "行政审批事项在法定期限内",
        ["环评科"],
        ["生态科", "固体科", "大气科", "水科"],
        [],
        False,
        None,
        69,
    ),
    (
        "000",
        "",
        "5",
        "根据法律法规立改废释、机",
        ["人事科"],
        ["局属各单位", "机关各科室"],
        [],
        False,
        None,
        75,
    ),
    (
        "000",
        "",
        "9",
        "全面清理废除地方保护、指",
        ["法规科"],
        ["局属各单位", "机关各科室"],
        [],
        False,
        None,
        81,
    ),
    ("000", "", "10", "全面落实地方节能和生态环", ["法规科", "综合科"], ["各有关单位"], [], False, None, 83),
    ("000", "", "11", "加大城乡建设与管理、生态", ["法规科"], ["各有关单位"], [], False, None, 85),
    ("000", "", "15", "重要的行政规范性文件依法", [], [], [], True, None, 94),
    ("000", "", "21", "市县普遍设立法律顾问、公", ["法规科"], [], [], False, None, 104),
    ("000", "", "22", "根据本级政府事权和职能，", ["人事科"], [], [], False, None, 105),
    ("000", "", "26", "除法律、法规、规章另有规", ["市生态环境综合行政执法支队"], [], [], False, None, 111),
    ("000", "", "28", "行政执法机关在执法决定作", ["各执法单位"], ["办公室"], [], False, None, 113),
    ("000", "", "43", "及时开展行政调解，有效化", [], [], [], True, None, 134),
    (
        "000",
        "",
        "51",
        "自觉接受、配合监察机关开",
        ["市纪委监委驻市生态环境局纪检监察室", "综合科", "法规科"],
        ["局属各单位", "机关各科室"],
        [],
        False,
        None,
        144,
    ),
    # 57's owner cells are merged with 56's (issue 12 §2): it shares them.
    (
        "000",
        "",
        "57",
        "严格落实“谁执法谁普法”",
        ["法规科", "办公室"],
        ["局属各单位", "机关各科室"],
        [],
        False,
        None,
        152,
    ),
    (
        "000",
        "",
        "58",
        "对特权思想严重、法治观念",
        ["市纪委监委驻市生态环境局纪检监察室"],
        [],
        [],
        False,
        None,
        153,
    ),
    (
        "000",
        "",
        "60",
        "将《宪法》《民法典》列入",
        ["法规科"],
        ["局属各单位", "机关各科室"],
        [],
        False,
        None,
        155,
    ),
    (
        "000",
        "",
        "62",
        "领导小组办公室在领导小组",
        ["法规科"],
        ["局属各单位", "机关各科室"],
        [],
        False,
        None,
        160,
    ),
    ("001", "", "1", "非行政许可审批事项全部取", ["服务科"], [], [("史凤云", "服务科")], False, None, 28),
    (
        "001",
        "",
        "7",
        "全面推行“双随机、一公开",
        ["市生态环境综合行政执法支队"],
        [],
        [("刘建设", "市生态环境综合行政执法支队"), ("申军强", "市生态环境综合行政执法支队")],
        False,
        None,
        92,
    ),
    (
        "001",
        "",
        "11",
        "全面推进政务诚信建设，依",
        ["法规科", "服务科"],
        [],
        [("刘海利", "法规科"), ("史凤云", "服务科")],
        False,
        None,
        144,
    ),
    ("001", "", "14", "严控规范性文件发文数量，", ["办公室"], [], [("孙新顺", "办公室")], False, None, 181),
    ("001", "", "19", "制定重大行政决策事项目录", ["综合科"], [], [("韩艳军", "综合科")], False, None, 238),
    (
        "001",
        "",
        "37",
        "及时开展行政调解，有效化",
        ["法规科", "市生态环境综合行政执法支队"],
        [],
        [
            ("刘海利", "法规科"),
            ("刘建设", "市生态环境综合行政执法支队"),
            ("申军强", "市生态环境综合行政执法支队"),
        ],
        False,
        None,
        439,
    ),
    (
        "001",
        "",
        "45",
        "部门内部层级监督常态化、",
        ["财审科", "人事科"],
        [],
        [("薛飘", "财审科"), ("杨海娜", "人事科")],
        False,
        None,
        534,
    ),
    ("001", "", "50", "实行政务公开清单管理制度", ["办公室"], [], [("孙新顺", "办公室")], False, None, 588),
    ("001", "", "60", "部门办公会议（领导小组会", ["法规科"], [], [("刘海利", "法规科")], False, None, 698),
    (
        "001",
        "附加项",
        "加分1",
        "依法行政工作获得市级以上",
        ["法规科"],
        [],
        [("刘海利", "法规科")],
        False,
        None,
        708,
    ),
    (
        "001",
        "附加项",
        "加分2",
        "依法行政工作积极创新、深",
        ["法规科"],
        [],
        [("刘海利", "法规科")],
        False,
        None,
        718,
    ),
    (
        "001",
        "附加项",
        "减分1",
        "发生严重违法行政行为，或",
        ["法规科"],
        [],
        [("刘海利", "法规科")],
        False,
        None,
        728,
    ),
    (
        "001",
        "附加项",
        "减分2",
        "在示范创建活动的申报材料",
        ["法规科"],
        [],
        [("刘海利", "法规科")],
        False,
        None,
        738,
    ),
    (
        "002",
        "",
        "1",
        "向社会公布本部门全部行政",
        ["法制仲裁科"],
        [],
        [("王壮凯", "法制仲裁科")],
        False,
        None,
        204,
    ),
    ("002", "", "4", "对各类证明事项，凡没有法", ["政治部"], [], [("王海峰", "政治部")], False, None, 239),
    (
        "002",
        "",
        "9",
        "全面实施行政事业性收费和",
        ["政治部", "行政财务装备科", "司法鉴定管理科", "律师公证管理科"],
        [],
        [
            ("李建伟", "政治部"),
            ("杨英丽", "行政财务装备科"),
            ("李绍栋", "司法鉴定管理科"),
            ("王奇锦", "律师公证管理科"),
        ],
        False,
        None,
        286,
    ),
    (
        "002",
        "",
        "(1)",
        "严格落实预算法规定，坚持",
        ["行政财务装备科"],
        [],
        [("杨英丽", "行政财务装备科")],
        False,
        None,
        312,
    ),
    (
        "002",
        "",
        "30",
        "行政规范性文件没有增加法",
        ["法制仲裁科"],
        [],
        [("王壮凯", "法制仲裁科")],
        False,
        None,
        576,
    ),
    (
        "002",
        "",
        "36",
        "制定重大行政决策事项目录",
        ["法制仲裁科"],
        ["办公室"],
        [("王壮凯", "法制仲裁科"), ("徐鉴", "办公室")],
        False,
        None,
        641,
    ),
    (
        "002",
        "",
        "★1",
        "整合律师资源，组建市、县",
        ["法制仲裁科"],
        [],
        [("王壮凯", "法制仲裁科")],
        False,
        None,
        752,
    ),
    ("002", "", "46", "行政首长在重大行政决策集", ["政治部"], [], [("王海峰", "政治部")], False, None, 772),
    ("002", "", "(7)", "将服务型行政执法内容纳入", [], [], [], True, None, 1018),
    (
        "002",
        "",
        "84",
        "调解、仲裁、行政裁决、行",
        ["基层工作指导科", "办公室", "法制仲裁科"],
        [],
        [("孙明山", "基层工作指导科"), ("徐鉴", "办公室"), ("王壮凯", "法制仲裁科")],
        False,
        None,
        1279,
    ),
    (
        "002",
        "",
        "★2",
        "完善“三远一网”（远程会",
        ["法律援助工作科", "信息化工作科"],
        [],
        [("刘合宝", "法律援助工作科"), ("杨英丽", "信息化工作科")],
        False,
        None,
        1296,
    ),
    (
        "002",
        "",
        "★3",
        "创新人民调解“三三三”工",
        ["基层工作指导科"],
        [],
        [("孙明山", "基层工作指导科")],
        False,
        None,
        1319,
    ),
    (
        "002",
        "",
        "100",
        "法治建设成效作为衡量各级",
        ["规范性文件管理科"],
        [],
        [("张秀雨", "规范性文件管理科")],
        False,
        None,
        1528,
    ),
    (
        "002",
        "附加项",
        "加分1",
        "法治政府建设有关工作获得",
        ["规范性文件管理科"],
        [],
        [("张秀雨", "规范性文件管理科")],
        False,
        None,
        1548,
    ),
    ("002", "附加项", "减分1", "发生严重违法行政行为，或", [], [], [], True, None, 1566),
    (
        "003",
        "",
        "1",
        "深入学习宣传贯彻习近平法",
        ["县委宣传部", "县委组织部", "县委党校", "县委依法治县办"],
        ["县直有关单位"],
        [],
        False,
        None,
        209,
    ),
    ("003", "", "2", "统筹推进法治濮阳县、法治", ["县委依法治县办"], ["县直有关单位"], [], False, None, 211),
    (
        "003",
        "",
        "3",
        "加强中国特色社会主义法治",
        ["县委依法治县办", "县委党校", "县法学会"],
        [],
        [],
        False,
        None,
        213,
    ),
    (
        "003",
        "",
        "10",
        "加强备案审查。做好党内法",
        ["县委办公室", "县人大常委会法工委", "县政府办公室", "县司法局"],
        [],
        [],
        False,
        None,
        228,
    ),
    (
        "003",
        "",
        "20",
        "深入推进“放管服效”改革",
        ["县政务服务和大数据管理局", "县行政服务中心"],
        ["县委编办", "县市场监管局", "县发展改革委", "县财政局", "县司法局"],
        [],
        False,
        None,
        249,
    ),
    (
        "003",
        "",
        "25",
        "加强行政调解工作。完善行",
        ["县政府办公室", "县法院"],  # the alias table: 法院 is 县法院 inside 003
        ["县直行政执法单位"],
        [],
        False,
        None,
        259,
    ),
    (
        "003",
        "",
        "30",
        "加强和规范政府督查工作。",
        ["县委营商环境办(县委县政府督查局)"],
        ["县直有关单位"],
        [],
        False,
        None,
        269,
    ),
    (
        "003",
        "",
        "35",
        "提升全民法治素养。开展“",
        ["县委宣传部", "县委党校", "县司法局", "县教育局", "县委依法治县办"],
        ["县直有关单位"],
        [],
        False,
        None,
        280,
    ),
    (
        "003",
        "",
        "40",
        "保障行政执法中当事人合法",
        [
            "县委办公室",
            "县政府办公室",
            "县委营商环境办(县委县政府督查局)",
            "县人大常委会法工委",
            "县发展改革委",
            "县委政法委",
            "县司法局",
        ],
        ["县直有关单位"],
        [],
        False,
        None,
        290,
    ),
    ("003", "", "45", "培育良好的网络法治意识。", ["县委网信办"], ["县直有关单位"], [], False, None, 300),
    (
        "003",
        "",
        "48",
        "推进多层次多领域依法治理",
        ["县委政法委", "县发展改革委", "县房地产事务中心", "县民政局", "县司法局"],
        ["县直有关单位"],
        [],
        False,
        None,
        306,
    ),
    ("003", "", "50", "依法有效化解社会矛盾纠纷", ["县司法局"], ["县直有关单位"], [], False, None, 310),
    ("004", "党委", "1", "县（区）常委会每半年至少", ["县(区)委办公室"], [], [], False, 6.0, 77),
    ("004", "党委", "6", "科学制定本地法治建设指标", ["县(区)委依法治县(区)办"], [], [], False, 6.0, 83),
    (
        "004",
        "党委",
        "7",
        "把党委主要负责人履行推进",
        ["县(区)纪委监委", "县(区)委巡察办", "县(区)委依法治县(区)办"],
        [],
        [],
        False,
        2.0,
        85,
    ),
    ("004", "党委", "8", "加强党内法规专门工作队伍", ["县(区)委办公室"], [], [], False, 5.0, 86),
    ("004", "党委", "9", "健全党委领导党内法规制度", ["县(区)委办公室"], [], [], False, 4.0, 87),
    (
        "004",
        "党委",
        "10",
        "加大党内法规宣传力度,将",
        ["县(区)纪委监委", "县(区)委办", "县(区)委巡察办"],
        [],
        [],
        False,
        3.0,
        88,
    ),
    ("004", "党委", "11", "加强规范性文件备案审查。", ["县(区)委办公室"], [], [], False, 3.0, 93),
    ("004", "党委", "27", "健全并落实县(区)委理论", ["县(区)委宣传部"], [], [], False, 2.0, 114),
    (
        "004",
        "政府",
        "1",
        "制定并落实法治政府建设五",
        ["县(区)法治政府建设领导小组办公室"],
        [],
        [],
        False,
        7.0,
        121,
    ),
    (
        "004",
        "政府",
        "4",
        "将法治政府建设纳入政府常",
        ["县(区)政府办", "县(区)法治政府建设领导小组办公室"],
        [],
        [],
        False,
        3.0,
        125,
    ),
    (
        "004",
        "政府",
        "5",
        "每年定期组织召开县（区）",
        ["县(区)法治政府建设领导小组办公室"],
        [],
        [],
        False,
        3.0,
        126,
    ),
    (
        "004",
        "政府",
        "8",
        "贯彻落实《重大行政决策程",
        ["县(区)政府办", "县(区)司法局"],
        [],
        [],
        False,
        4.0,
        130,
    ),
    (
        "004",
        "政府",
        "30",
        "组织实施普法，切实加强组",
        ["县(区)财政局", "县(区)司法局"],
        [],
        [],
        False,
        3.0,
        158,
    ),
]


@pytest.fixture(scope="module")
def documents() -> dict[str, ParsedDocument]:
    parsed: dict[str, ParsedDocument] = {}
    for name, data in sample_files():
        [document] = read_document_bytes(data, name)
        parsed[name[:3]] = document
    return parsed


@pytest.mark.parametrize(
    ("prefix", "tables"),
    [
        ("000", {"": 64}),
        ("001", {"": 60, "附加项": 4}),
        ("002", {"": 121, "附加项": 4}),
        ("003", {"": 50}),
        ("004", {"党委": 27, "政府": 30}),
    ],
)
def test_counts(documents: dict[str, ParsedDocument], prefix: str, tables: dict[str, int]) -> None:
    document = documents[prefix]
    assert Counter(i.table for i in document.indicators) == tables
    keys = [(i.table, i.key) for i in document.indicators]
    assert len(keys) == len(set(keys)), "one indicator per (document, table, number)"


def test_bonus_items_reuse_numbers_1_and_2(documents: dict[str, ParsedDocument]) -> None:
    for prefix in ("001", "002"):
        bonus = [(i.number, i.key) for i in documents[prefix].indicators if i.table == "附加项"]
        assert bonus == [("1", "加分1"), ("2", "加分2"), ("1", "减分1"), ("2", "减分2")]


def test_numbers_are_kept_as_written_with_half_width_keys(documents: dict[str, ParsedDocument]) -> None:
    by_key = {i.key: i for i in documents["002"].indicators}
    assert by_key["(1)"].number == "（1）"
    assert by_key["★2"].number == "★2"
    assert "5" not in by_key  # the source has no indicator 5: nothing is invented


@pytest.mark.parametrize(
    ("prefix", "table", "key", "text", "leads", "coops", "persons", "unassigned", "points", "line"),
    SPOT_CHECKS,
)
def test_spot_checks(
    documents: dict[str, ParsedDocument],
    prefix: str,
    table: str,
    key: str,
    text: str,
    leads: list[str],
    coops: list[str],
    persons: list[tuple[str, str]],
    unassigned: bool,
    points: float | None,
    line: int,
) -> None:
    document = documents[prefix]
    [item] = [i for i in document.indicators if (i.table, i.key) == (table, key)]
    # Owner names are as in the file; aliases (支队 → full name) apply when stored.
    data = item.as_json(document.doc_id)
    assert item.text.startswith(text)
    assert item.unassigned is unassigned
    assert item.points == points
    assert item.line_start == line
    from knowledge.aliases import load_aliases

    aliases = load_aliases()
    assert [aliases.canonical(document.doc_id, u) for u in data["lead_units"]] == leads
    assert [aliases.canonical(document.doc_id, u) for u in data["coop_units"]] == coops
    assert [(p["name"], aliases.canonical(document.doc_id, p["unit"])) for p in data["persons"]] == persons


def test_004_criteria_points_add_up_to_task_points(documents: dict[str, ParsedDocument]) -> None:
    from knowledge.normalize import criteria_points

    party = {i.key: i for i in documents["004"].indicators if i.table == "党委"}
    for key in ("7", "8", "9", "10"):
        assert criteria_points(party[key].criteria) == party[key].points
    assert party["7"].criteria.startswith("纳入巡察范围得2分")
    assert "导出错位" in party["7"].owner_note


def test_every_indicator_has_text_and_owner_or_explicit_unassigned(
    documents: dict[str, ParsedDocument],
) -> None:
    for document in documents.values():
        for item in document.indicators:
            assert item.text, (document.doc_id, item.key)
            assert item.leads or item.coops or (item.unassigned and item.owner_note), (
                document.doc_id,
                item.key,
            )


def test_merged_owner_cell_is_inherited_with_a_note(documents: dict[str, ParsedDocument]) -> None:
    by_key = {i.key: i for i in documents["002"].indicators}
    assert [o.unit for o in by_key["46"].leads] == ["政治部"]
    assert "沿用同组上一项（45）" in by_key["46"].owner_note
    assert by_key["(7)"].unassigned and "未分配" in by_key["(7)"].owner_note


def test_methods_materials_and_headings(documents: dict[str, ParsedDocument]) -> None:
    first = documents["001"].indicators[0]
    assert first.methods == ["材料查证", "随机访谈", "问卷调查"]
    assert first.materials == "2019年以来本部门取消非行政许可审批事项的情况说明"
    assert first.level1 == "一、政府职能依法全面履行"
    assert first.level2 == "1.行政审批制度改革全面推行"
    ten = next(i for i in documents["000"].indicators if i.key == "10")
    assert "开展自然资源资产离任审计的情况说明。" in ten.materials  # from the row holding “10”


def test_reporting_rules(documents: dict[str, ParsedDocument]) -> None:
    rules = {p: d.reporting_rules for p, d in documents.items()}
    assert [(r["kind"], r["day"]) for r in rules["000"]] == [("monthly_unit", 3), ("monthly_coordinator", 5)]
    assert rules["000"][1]["coordinator_unit"] == "法规科"
    assert [(r["kind"], r["day"]) for r in rules["002"]] == [("monthly_unit", 1)]
    assert [(r["kind"], r["due"]) for r in rules["001"]] == [("one_off", "10-28")]
    phases = {(r["title"], r["due"]) for r in rules["004"]}
    assert ("自查阶段", "08-10") in phases
    assert ("整改报告", "09-05") in phases


def test_contacts_with_phones(documents: dict[str, ParsedDocument]) -> None:
    contacts = {(c.name, c.unit, c.phone) for c in documents["002"].contacts}
    assert ("张秀雨", "综合协调组", "13839290022") in contacts
    assert len(contacts) == 4


def test_templates_are_not_indicators(documents: dict[str, ParsedDocument]) -> None:
    assert any("报送模板" in w for w in documents["000"].warnings)
    assert any("报送模板" in w for w in documents["002"].warnings)
    assert all("完成进度" not in i.text for d in documents.values() for i in d.indicators)


def test_document_metadata(documents: dict[str, ParsedDocument]) -> None:
    assert documents["000"].issuer == "濮阳市生态环境局"
    assert documents["002"].short_name == "濮阳司法局责任分工表"
    assert documents["004"].kind == "scoring"
    assert documents["001"].doc_id == "001_4c05958a6f6fc4a3"


def test_headings_repeated_by_merged_cells_appear_once(documents: dict[str, ParsedDocument]) -> None:
    level1 = {i.level1 for i in documents["002"].indicators}
    assert len(level1) == 9
    assert "四、行政执法严格规范公正文明" in level1

"""打分表 (004): 主要职责 · 工作任务 (numbered, with points) · 落实单位 · 检查标准 · 得分 · 备注.

The export mixes tabs and ``<p>`` fragments, and in places the 落实单位/检查标准 of a task
stand one row off. The points a 检查标准 can award add up to the task's own points, so
the (units, criteria) slots are re-aligned to tasks by that sum.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from knowledge.model import Owner, ParsedIndicator
from knowledge.normalize import criteria_points, number_key, one_line, task_points
from knowledge.owners import split_units

NUMBERED_TEXT_RE = re.compile(r"^(\d{1,3})\s+(\S.*)$")
BARE_NUMBER_RE = re.compile(r"^\d{1,3}$")
DUTY_RE = re.compile(r"^\d{1,2}\s*[.．]\s*\S")


@dataclass
class _Slot:
    units: str
    criteria: str
    line: int


def _is_criteria(cell: str) -> bool:
    return bool(re.search(r"得\s*\d+\s*分|不得分|检查方式", cell))


def read_scoring_table(lines: list[str], table: str, first_line: int = 1) -> list[ParsedIndicator]:
    """Tasks of one 打分表, with points, 落实单位 and 检查标准."""
    tasks: list[ParsedIndicator] = []
    own_slot: list[int] = []  # index into slots of the task's own row
    slots: list[_Slot] = []
    duty = ""
    last_number = 0
    for offset, line in enumerate(lines):
        line_no = first_line + offset
        cells = [one_line(c) for c in line.split("\t")]
        nonempty = [c for c in cells if c]
        if not nonempty or nonempty[0].startswith("主要职责"):
            continue
        number: int | None = None
        text = ""
        rest: list[str] = []
        for cell in nonempty:
            if not text and number is None and DUTY_RE.match(cell) and task_points(cell) is None:
                duty = cell
            elif number is None and not text and BARE_NUMBER_RE.match(cell):
                number = int(cell)
            elif not text and task_points(cell) is not None and not _is_criteria(cell):
                match = NUMBERED_TEXT_RE.match(cell)
                if match and number is None:
                    number, text = int(match.group(1)), match.group(2)
                else:
                    text = cell
            else:
                rest.append(cell)
        criteria = next((c for c in rest if _is_criteria(c)), "")
        units = next((c for c in rest if c != criteria), "")
        if not text:
            if units or criteria:
                slots.append(_Slot(units, criteria, line_no))  # a row one off: units/criteria only
            continue
        number = number if number is not None else last_number + 1
        last_number = number
        own_slot.append(len(slots))
        slots.append(_Slot(units, criteria, line_no))
        tasks.append(
            ParsedIndicator(
                number=str(number),
                key=number_key(str(number)),
                text=text,
                table=table,
                level1=duty,
                points=task_points(text),
                line_start=line_no,
                line_end=line_no,
            )
        )
    _align(tasks, slots, own_slot)
    return tasks


def _align(tasks: list[ParsedIndicator], slots: list[_Slot], own_slot: list[int]) -> None:
    pointer = 0
    for task, own in zip(tasks, own_slot, strict=True):
        chosen = own
        # An unclaimed slot above the task's own row (a row one off) is taken when its
        # criteria add up to the task's points; a task never reaches below its own row.
        if pointer < own and task.points is not None:
            earlier = slots[pointer]
            if earlier.criteria and abs(criteria_points(earlier.criteria) - task.points) < 0.01:
                chosen = pointer
        slot = slots[chosen]
        pointer = chosen + 1
        task.criteria = slot.criteria
        task.leads = [Owner(u) for u in split_units(slot.units)]
        if chosen != own:
            task.owner_note = f"落实单位与检查标准取自第{slot.line}行（导出错位，按分值对齐）"
            task.line_start = min(task.line_start or slot.line, slot.line)
            task.line_end = max(task.line_end or slot.line, slot.line)
        if not task.leads:
            task.unassigned = True
            task.owner_note = task.owner_note or "落实单位栏为空，未分配"

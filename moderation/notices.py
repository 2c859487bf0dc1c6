"""Fixed wording that must accompany records Circle discloses.

42 CFR part 2, section 2.32(a) (as amended by the final rule of 16 February 2024,
89 FR 12472; compliance date 16 February 2026): each disclosure of a part 2
record made with the patient's written consent must be accompanied by one of
two statements. Circle prints Statement 1, the full notice, at the head of
every transcript (page and download) and of the session's audit report.
Do not paraphrase it: the rule prescribes the wording. If the rule changes,
change it here (tests/test_transcript.py pins the opening sentence).
"""

from __future__ import annotations

PART2_NOTICE_TITLE = "Notice under 42 CFR part 2, section 2.32"

PART2_NOTICE = (
    "This record which has been disclosed to you is protected by Federal confidentiality rules "
    "(42 CFR part 2). These rules prohibit you from using or disclosing this record, or testimony "
    "that describes the information contained in this record, in any civil, criminal, administrative, "
    "or legislative proceedings by any Federal, State, or local authority, against the patient, unless "
    "authorized by the consent of the patient, except as provided at 42 CFR 2.12(c)(5) or as authorized "
    "by a court in accordance with 42 CFR 2.64 or 2.65. In addition, the Federal rules prohibit you from "
    "making any other use or disclosure of this record unless at least one of the following applies:"
)

PART2_NOTICE_CONDITIONS = (
    "Further use or disclosure is expressly permitted by the written consent of the individual whose "
    "information is being disclosed in this record or as otherwise permitted by 42 CFR part 2.",
    "You are a covered entity or business associate and have received the record for treatment, "
    "payment, or health care operations, or",
    "You have received the record from a covered entity or business associate as permitted by "
    "45 CFR part 164, subparts A and E.",
)

PART2_NOTICE_CLOSING = (
    "A general authorization for the release of medical or other information is NOT sufficient to meet "
    "the required elements of written consent to further use or redisclose the record (see 42 CFR 2.31)."
)


def part2_notice_text() -> str:
    """The notice as plain text (for the .txt download)."""
    numbered = zip(("i", "ii", "iii"), PART2_NOTICE_CONDITIONS, strict=True)
    items = "\n".join(f"  ({numeral}) {text}" for numeral, text in numbered)
    return f"{PART2_NOTICE_TITLE}\n\n{PART2_NOTICE}\n{items}\n{PART2_NOTICE_CLOSING}\n"

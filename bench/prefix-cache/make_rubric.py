"""Writes a judge's system prompt of about 1,200 tokens (a rubric with worked examples) to the path given.

Used by BENCHMARKS.md's "Keys and values kept between batches": every judged row starts with it.
"""
import sys

CRITERIA = [
    "Helpfulness: does the answer do what was asked, completely, for this user?",
    "Correctness: is every statement true, and are calculations and code right?",
    "Coherence: is it clear, well ordered and free of contradictions?",
    "Complexity: does its depth suit the question, neither shallow nor needlessly expert?",
    "Verbosity: is its length right for the request, without padding or gaps?",
]
LEVELS = [
    "the answer fails the request or is mostly wrong.",
    "the answer has serious errors or omissions.",
    "the answer is acceptable but has clear flaws.",
    "the answer is good with minor flaws.",
    "the answer is excellent: correct, complete, clear, and well sized.",
]
EXAMPLES = [
    ("How many legs does a spider have?", "Eight.", 5, "Correct and as short as the question allows."),
    ("Explain photosynthesis to a child.",
     "Plants use light to make food from air and water, and they give off the oxygen we breathe.", 5,
     "Accurate and pitched for a child."),
    ("What is the capital of Australia?", "Sydney is the capital of Australia.", 1, "Wrong: the capital is Canberra."),
    ("Write a Python function that reverses a string.", "def rev(s): return s[::-1]", 4,
     "Correct, but it has no explanation or name that says what it does."),
    ("Summarise the causes of the First World War.", "It started because of an assassination.", 2,
     "One trigger named, the underlying causes (alliances, militarism, imperial rivalry, nationalism) missing."),
    ("Give me three tips for better sleep.",
     "Keep a regular schedule, avoid screens before bed, and keep the bedroom cool and dark. Also avoid caffeine "
     "late in the day, exercise regularly, and see a doctor if sleeplessness persists for weeks.", 4,
     "Good advice, but more than the three tips asked for."),
]

lines = ["You are an impartial grader of assistant answers. Read the user's request and the answer, "
         "then give one score from 1 to 5."]
for i, criterion in enumerate(CRITERIA):
    lines.append(f"Criterion {i + 1}. {criterion} Weigh this criterion against the others as the request "
                 "demands; a factual error outweighs style.")
for score, level in enumerate(LEVELS, start=1):
    lines.append(f"Score {score}: {level}")
for request, answer, score, why in EXAMPLES:
    lines.append(f"Example. Request: {request} Answer: {answer} Score: {score}. Why: {why}")
lines.append("Think about each criterion in turn, then write only the score.")
with open(sys.argv[1], "w") as out:
    out.write("\n".join(lines * 2))

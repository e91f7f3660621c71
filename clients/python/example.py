"""Schema Meter from Python, standard library only: sign up (or use SCHEMA_METER_API_KEY), validate
seven documents (waiting out 429s), and show an error's problem. Prints one JSON line of results.

    SCHEMA_METER_URL=https://api.example.com SCHEMA_METER_EMAIL=you@example.com python3 example.py
"""

import json
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from schema_meter import ProblemError, SchemaMeter  # noqa: E402

retries = []
meter = SchemaMeter(os.environ["SCHEMA_METER_URL"], api_key=os.environ.get("SCHEMA_METER_API_KEY"),
                    on_retry=retries.append)
if not meter.api_key:
    meter.sign_up(os.environ.get("SCHEMA_METER_EMAIL", "python-example@example.com"))

schema = {"type": "object", "required": ["id"], "properties": {"id": {"type": "integer"}}}
verdicts = []
for call in range(7):
    verdict = meter.validate(schema=schema, data={"id": call if call % 2 else "not a number"})
    verdicts.append(verdict["valid"])

try:
    meter.validate(schema={"type": 12}, data=1)
    problem = None
except ProblemError as error:
    problem = {"status": error.status, "code": error.code}

print(json.dumps({"verdicts": verdicts, "token_exchanges": meter.token_exchanges,
                  "retries": retries, "problem": problem}))

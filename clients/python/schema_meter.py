"""A small Schema Meter client for Python 3.8+, standard library only (urllib).

It authenticates every call (an API key exchanged for a token at POST /v1/token and renewed before
it expires, or the API key itself on every call with send_api_key=True, or a token you already
have), waits out Retry-After on 429 and 503 (neither is billed), and raises ProblemError with the
RFC 9457 problem (code, detail, request_id) for any other error.

    meter = SchemaMeter("https://api.example.com", api_key=os.environ["SCHEMA_METER_API_KEY"])
    verdict = meter.validate(schema={"type": "integer"}, data=42)
"""

import json
import threading
import time
import urllib.error
import urllib.request
from email.utils import parsedate_to_datetime

RENEW_BEFORE_S = 60
TOKEN_REFUSALS = {"TOKEN_EXPIRED", "TOKEN_REVOKED", "TOKEN_INVALID"}


class ProblemError(Exception):
    """An error answer: `status`, and the problem's `code`, `detail` and `request_id`."""

    def __init__(self, status, problem):
        self.status = status
        self.problem = problem
        self.code = problem.get("code")
        self.request_id = problem.get("request_id")
        super().__init__(f"{status} {self.code}: {problem.get('detail') or problem.get('title')}")


def retry_after_seconds(header):
    """Retry-After as delta-seconds or an HTTP date; None when absent or unreadable."""
    if header is None:
        return None
    header = header.strip()
    if header.isdigit():
        return int(header)
    try:
        return max(0.0, parsedate_to_datetime(header).timestamp() - time.time())
    except (TypeError, ValueError):
        return None


class SchemaMeter:
    def __init__(self, base_url, api_key=None, token=None, send_api_key=False,
                 max_retries=3, max_retry_delay_s=30, timeout_s=10, on_retry=None):
        self.base_url = base_url.rstrip("/")
        self.api_key = api_key
        self.send_api_key = send_api_key
        self.max_retries = max_retries
        self.max_retry_delay_s = max_retry_delay_s
        self.timeout_s = timeout_s
        self.on_retry = on_retry
        self.token_exchanges = 0
        self._static_token = token
        self._token = None
        self._renew_at = 0.0
        self._lock = threading.Lock()

    # -- the API -----------------------------------------------------------------------------------

    def sign_up(self, email):
        """POST /v1/signup: a free-tier account; keeps its API key for the next calls."""
        account = self.request("POST", "/v1/signup", {"email": email}, credential=None)
        self.api_key = account["api_key"]
        return account

    def validate(self, schema=None, data=None, schema_url=None, **options):
        """POST /v1/validate: the verdict (`valid`, `errors`, `units`)."""
        body = {"schema_url": schema_url} if schema_url else {"schema": schema}
        body.update({"data": data}, **options)
        return self.request("POST", "/v1/validate", body)

    def account(self):
        return self.request("GET", "/v1/account")

    # -- plumbing ----------------------------------------------------------------------------------

    def credential(self):
        """What the next authenticated call sends: a token (exchanged or renewed when needed) or the key."""
        if self._static_token:
            return self._static_token
        if not self.api_key:
            raise ValueError("no credential: pass api_key or token, or call sign_up first")
        if self.send_api_key:
            return self.api_key
        with self._lock:
            if self._token is None or time.time() >= self._renew_at:
                answer = self.request("POST", "/v1/token", credential=self.api_key)
                self.token_exchanges += 1
                lifetime = answer["expires_in"]
                self._token = answer["token"]
                self._renew_at = time.time() + lifetime - min(RENEW_BEFORE_S, lifetime / 2)
            return self._token

    def request(self, method, path, body=None, credential=..., renewed=False):
        """One call, retried on 429/503 with a Retry-After up to max_retry_delay_s; JSON answer."""
        if credential is ...:
            credential = self.credential()
        headers = {"Accept": "application/json"}
        if credential:
            headers["Authorization"] = "Bearer " + credential
        data = None
        if body is not None:
            headers["Content-Type"] = "application/json"
            data = json.dumps(body).encode()
        for attempt in range(1, self.max_retries + 2):
            request = urllib.request.Request(self.base_url + path, data=data, method=method, headers=headers)
            try:
                with urllib.request.urlopen(request, timeout=self.timeout_s) as response:
                    return json.load(response)
            except urllib.error.HTTPError as error:
                problem = _problem_of(error)
                delay = retry_after_seconds(error.headers.get("Retry-After"))
                if (error.code in (429, 503) and attempt <= self.max_retries
                        and delay is not None and delay <= self.max_retry_delay_s):
                    if self.on_retry:
                        self.on_retry({"status": error.code, "delay_s": delay, "attempt": attempt})
                    time.sleep(delay)
                    continue
                refused_token = error.code == 401 and problem.get("code") in TOKEN_REFUSALS
                if refused_token and not renewed and credential == self._token and self._token:
                    self._token = None  # revoked or expired early: renew once and try again
                    return self.request(method, path, body, renewed=True)
                raise ProblemError(error.code, problem) from None
        raise AssertionError("unreachable")


def _problem_of(error):
    try:
        problem = json.load(error)
        return problem if isinstance(problem, dict) else {}
    except ValueError:
        return {}

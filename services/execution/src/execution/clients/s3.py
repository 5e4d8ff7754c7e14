"""A small client of an S3-compatible object store (AWS S3, MinIO, Ceph RGW, moto …) over httpx.

Only what the evidence store needs: PUT, GET, DELETE and a paged LIST (ListObjectsV2) of one bucket, path-style
(``{endpoint}/{bucket}/{key}``, which every S3-compatible server accepts), each request signed with AWS Signature
Version 4 (header form, the payload's SHA-256 signed too). No SDK: httpx is already the services' HTTP client,
and the signature is the one documented algorithm (canonical request → string to sign → HMAC chain).

Transport failures and 5xx answers raise ``ObjectStoreUnavailable``; any other unexpected answer
``ObjectStoreError``; the store maps them to problem+json.
"""

from __future__ import annotations

import hashlib
import hmac
from dataclasses import dataclass
from datetime import UTC, datetime
from urllib.parse import quote
from xml.etree import ElementTree

import httpx

_UNRESERVED = "-_.~"
_XMLNS = "{http://s3.amazonaws.com/doc/2006-03-01/}"


class ObjectStoreError(Exception):
    """The object store answered something this client did not expect."""


class ObjectStoreUnavailable(ObjectStoreError):
    """The object store could not be reached, or answered 5xx."""


@dataclass(frozen=True, slots=True)
class StoredObject:
    key: str
    size: int
    last_modified: datetime


@dataclass(frozen=True, slots=True)
class S3Config:
    endpoint: str  # e.g. https://s3.eu-west-1.amazonaws.com or http://127.0.0.1:9000
    bucket: str
    region: str
    access_key_id: str
    secret_access_key: str


def _hmac(key: bytes, text: str) -> bytes:
    return hmac.new(key, text.encode(), hashlib.sha256).digest()


def signing_key(secret: str, day: str, region: str, service: str = "s3") -> bytes:
    k = _hmac(("AWS4" + secret).encode(), day)
    k = _hmac(k, region)
    k = _hmac(k, service)
    return _hmac(k, "aws4_request")


def _encode(text: str, safe: str = _UNRESERVED) -> str:
    return quote(text, safe=safe)


def sign(
    config: S3Config,
    method: str,
    url: httpx.URL,
    headers: dict[str, str],
    payload_sha256: str,
    now: datetime,
) -> dict[str, str]:
    """The headers that sign this request (SigV4): ``x-amz-date``, ``x-amz-content-sha256``, ``authorization``."""
    amz_date = now.astimezone(UTC).strftime("%Y%m%dT%H%M%SZ")
    day = amz_date[:8]
    signed = {k.lower(): v.strip() for k, v in headers.items()}
    signed["host"] = url.netloc.decode("ascii")
    signed["x-amz-date"] = amz_date
    signed["x-amz-content-sha256"] = payload_sha256
    names = sorted(signed)
    query = sorted((_encode(k), _encode(v)) for k, v in httpx.QueryParams(url.query.decode("ascii")).multi_items())
    canonical = "\n".join(
        [
            method,
            url.raw_path.split(b"?")[0].decode("ascii"),  # already percent-encoded once (path-style key)
            "&".join(f"{k}={v}" for k, v in query),
            "".join(f"{n}:{signed[n]}\n" for n in names),
            ";".join(names),
            payload_sha256,
        ]
    )
    scope = f"{day}/{config.region}/s3/aws4_request"
    to_sign = "\n".join(["AWS4-HMAC-SHA256", amz_date, scope, hashlib.sha256(canonical.encode()).hexdigest()])
    signature = hmac.new(
        signing_key(config.secret_access_key, day, config.region), to_sign.encode(), hashlib.sha256
    ).hexdigest()
    return {
        "x-amz-date": amz_date,
        "x-amz-content-sha256": payload_sha256,
        "authorization": f"AWS4-HMAC-SHA256 Credential={config.access_key_id}/{scope}, "
        f"SignedHeaders={';'.join(names)}, Signature={signature}",
    }


class S3Client:
    def __init__(self, config: S3Config, *, timeout: float = 30.0, transport: httpx.AsyncBaseTransport | None = None):
        self.config = config
        self._http = httpx.AsyncClient(timeout=timeout, transport=transport)

    async def aclose(self) -> None:
        await self._http.aclose()

    def _url(self, key: str | None, params: dict[str, str] | None = None) -> httpx.URL:
        path = "/" + _encode(self.config.bucket)
        if key is not None:
            path += "/" + _encode(key, safe=_UNRESERVED + "/")
        url = httpx.URL(self.config.endpoint.rstrip("/") + path)
        return url.copy_with(params=params) if params else url

    async def _send(
        self,
        method: str,
        key: str | None,
        *,
        body: bytes = b"",
        params: dict[str, str] | None = None,
        headers: dict[str, str] | None = None,
    ) -> httpx.Response:
        url = self._url(key, params)
        extra = dict(headers or {})
        extra.update(sign(self.config, method, url, extra, hashlib.sha256(body).hexdigest(), datetime.now(UTC)))
        try:
            response = await self._http.request(method, url, content=body, headers=extra)
        except httpx.HTTPError as exc:
            raise ObjectStoreUnavailable(f"{method} {url.path}: {type(exc).__name__}: {exc}") from exc
        if response.status_code >= 500:
            raise ObjectStoreUnavailable(f"{method} {url.path}: {response.status_code}")
        return response

    @staticmethod
    def _fail(response: httpx.Response, what: str) -> ObjectStoreError:
        return ObjectStoreError(f"{what}: {response.status_code} {response.text[:300]}")

    async def create_bucket(self) -> None:
        response = await self._send("PUT", None)
        if response.status_code not in (200, 409):  # 409: it exists already (BucketAlreadyOwnedByYou)
            raise self._fail(response, "create bucket")

    async def put_object(self, key: str, data: bytes, content_type: str = "application/octet-stream") -> None:
        response = await self._send("PUT", key, body=data, headers={"content-type": content_type})
        if response.status_code != 200:
            raise self._fail(response, f"put {key}")

    async def get_object(self, key: str) -> bytes | None:
        response = await self._send("GET", key)
        if response.status_code == 404:
            return None
        if response.status_code != 200:
            raise self._fail(response, f"get {key}")
        return response.content

    async def delete_object(self, key: str) -> None:
        response = await self._send("DELETE", key)
        if response.status_code not in (200, 204, 404):
            raise self._fail(response, f"delete {key}")

    async def list_objects(self, prefix: str) -> list[StoredObject]:
        """Every object under ``prefix`` (ListObjectsV2, following continuation tokens)."""
        out: list[StoredObject] = []
        token: str | None = None
        while True:
            params = {"list-type": "2", "prefix": prefix}
            if token:
                params["continuation-token"] = token
            response = await self._send("GET", None, params=params)
            if response.status_code != 200:
                raise self._fail(response, f"list {prefix}")
            # The operator's own object store answers; ElementTree loads no external entities.
            root = ElementTree.fromstring(response.content)
            for node in root.iter(f"{_XMLNS}Contents"):
                out.append(
                    StoredObject(
                        key=node.findtext(f"{_XMLNS}Key") or "",
                        size=int(node.findtext(f"{_XMLNS}Size") or 0),
                        last_modified=datetime.fromisoformat(
                            (node.findtext(f"{_XMLNS}LastModified") or "").replace("Z", "+00:00")
                        ),
                    )
                )
            if (root.findtext(f"{_XMLNS}IsTruncated") or "false") != "true":
                return out
            token = root.findtext(f"{_XMLNS}NextContinuationToken")
            if not token:
                return out

"""The function registry: create, read, update, delete, versions, and where code lives.

Every function has a ``$LATEST`` version that CreateFunction, UpdateFunctionCode and
UpdateFunctionConfiguration write, and numbered versions that PublishVersion freezes.  A zip
package is unpacked once into ``<code root>/<account>/<region>/<name>/<code id>/`` (through
``runtime.code.extract_zip``, which refuses unsafe archives); versions point at the folder of
the package they were published from, so a later upload never changes a published version.
Folder mode (``Code.S3Bucket = "hot-reload"``, ``S3Key`` = a folder) points at the user's
folder instead, and the executor watches it for edits.

Plain synchronous domain code: no HTTP, no executor (``invoke.py`` runs functions).

AWS pages: https://docs.aws.amazon.com/lambda/latest/api/API_CreateFunction.html,
API_UpdateFunctionCode.html, API_UpdateFunctionConfiguration.html, API_PublishVersion.html,
API_DeleteFunction.html, https://docs.aws.amazon.com/lambda/latest/dg/configuration-versions.html
"""

from __future__ import annotations

import dataclasses
import shutil
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from headwater.core.clock import Clock
from headwater.core.errors import ServiceError
from headwater.core.ids import IdFactory
from headwater.runtime.code import check_upload_size, code_sha256, extract_zip
from headwater.services.lambda_ import errors, names
from headwater.services.lambda_.configuration import (
    HOT_RELOAD_BUCKET,
    Code,
    Config,
    Version,
    config_from_create,
)
from headwater.services.lambda_.names import LATEST, FunctionRef
from headwater.services.lambda_.store import FunctionRow, Key, LambdaStore

# Lambda's account default; headwater has one account, so the 100 every function without a
# reservation keeps are what PutFunctionConcurrency protects.
ACCOUNT_CONCURRENCY = 1000
UNRESERVED_MINIMUM = 100


# (bucket, key, version id or None) -> the object's bytes; raises S3's ServiceErrors.
ObjectFetcher = Callable[[str, str, "str | None"], bytes]

# A package fetched from S3 skips the 50 MB upload limit; what bounds it is the unzipped limit.
MAX_S3_PACKAGE_BYTES = 262_144_000


class Functions:
    def __init__(
        self,
        store: LambdaStore,
        clock: Clock,
        ids: IdFactory,
        code_root: Path,
        fetch_object: ObjectFetcher | None = None,
    ) -> None:
        self.fetch_object = fetch_object
        self.store = store
        self.clock = clock
        self.ids = ids
        self.code_root = code_root
        # Rows read on every invocation, kept until this object next writes the function
        # (every write to functions and versions goes through here): warm invokes then cost
        # no SQLite reads.
        self._rows: dict[Key, FunctionRow] = {}
        self._versions: dict[tuple[Key, str], Version] = {}

    def _forget(self, key: Key) -> None:
        self._rows.pop(key, None)
        for cached in [k for k in self._versions if k[0] == key]:
            del self._versions[cached]

    # -- lookups --------------------------------------------------------------------------

    @staticmethod
    def key(ref: FunctionRef) -> Key:
        return (ref.account, ref.region, ref.name)

    def function(self, ref: FunctionRef) -> FunctionRow:
        key = self.key(ref)
        row = self._rows.get(key) or self.store.function(key)
        if row is None:
            raise errors.function_not_found(ref.qualified_arn)
        self._rows[key] = row
        return row

    def version(self, ref: FunctionRef, version: str) -> Version:
        key = self.key(ref)
        found = self._versions.get((key, version)) or self.store.version(key, version)
        if found is None:
            raise errors.function_not_found(names.qualified_arn(ref.arn, version))
        self._versions[(key, version)] = found
        return found

    def resolve_version(self, ref: FunctionRef) -> Version:
        """The version a (possibly qualified) reference names; an alias names its primary."""
        self.function(ref)
        qualifier = ref.qualifier or LATEST
        if qualifier == LATEST or names.is_version(qualifier):
            return self.version(ref, qualifier)
        alias = self.store.alias(self.key(ref), qualifier)
        if alias is None:
            raise errors.function_not_found(ref.qualified_arn)
        return self.version(ref, alias[0])

    def code_dir(self, ref: FunctionRef, code: Code) -> Path:
        if code.folder is not None:
            return Path(code.folder)
        return self.code_root / ref.account / ref.region / ref.name / code.code_id

    # -- create / update / delete ---------------------------------------------------------

    def create(self, ref: FunctionRef, params: Mapping[str, Any]) -> Version:
        if not names.FUNCTION_NAME.match(ref.name):
            raise errors.invalid_parameter(f"Invalid function name: {ref.name}")
        if self.store.function(self.key(ref)) is not None:
            raise errors.conflict(f"Function already exist: {ref.name}")
        config = config_from_create(params)
        code = self._store_code(ref, params.get("Code") or {}, "CreateFunction")
        now = self.clock.now()
        latest = Version(LATEST, config, code, self.ids.uuid(), now)
        self._forget(self.key(ref))
        try:
            with self.store.transaction():
                self.store.insert_function(self.key(ref), now, dict(params.get("Tags") or {}))
                self.store.put_version(self.key(ref), latest)
        except BaseException:
            self._drop_code(ref, code)
            raise
        return latest

    def update_code(self, ref: FunctionRef, params: Mapping[str, Any]) -> Version:
        latest = self.version(ref, LATEST)
        _check_revision(latest, params.get("RevisionId"))
        if params.get("ImageUri"):
            raise errors.invalid_parameter(
                "Please don't provide ImageUri when updating a function with packageType Zip."
            )
        code = self._store_code(ref, params, "UpdateFunctionCode")
        updated = dataclasses.replace(
            latest, code=code, revision_id=self.ids.uuid(), last_modified=self.clock.now()
        )
        self._forget(self.key(ref))
        self.store.put_version(self.key(ref), updated)
        if latest.code.code_id != code.code_id and not self.store.code_in_use(
            self.key(ref), latest.code.code_id
        ):
            self._drop_code(ref, latest.code)
        return updated

    def dry_run_code(self, ref: FunctionRef, params: Mapping[str, Any]) -> Version:
        """UpdateFunctionCode with DryRun: the checks and the would-be hash, nothing stored."""
        latest = self.version(ref, LATEST)
        _check_revision(latest, params.get("RevisionId"))
        data = params.get("ZipFile")
        if not data:
            return latest
        check_upload_size(bytes(data), "UpdateFunctionCode")
        code = dataclasses.replace(latest.code, sha256=code_sha256(bytes(data)), size=len(data))
        return dataclasses.replace(latest, code=code)

    def update_config(self, ref: FunctionRef, params: Mapping[str, Any]) -> Version:
        latest = self.version(ref, LATEST)
        _check_revision(latest, params.get("RevisionId"))
        config: Config = latest.config.updated(params)
        updated = dataclasses.replace(
            latest, config=config, revision_id=self.ids.uuid(), last_modified=self.clock.now()
        )
        self._forget(self.key(ref))
        self.store.put_version(self.key(ref), updated)
        return updated

    def delete(self, ref: FunctionRef) -> list[Code]:
        """Delete the function (no qualifier) or one version; returns the code to clean up."""
        key = self.key(ref)
        self.function(ref)
        self._forget(key)
        if ref.qualifier is None:
            versions = self.store.versions(key)
            with self.store.transaction():
                self.store.delete_function(key)
            shutil.rmtree(self.code_root / ref.account / ref.region / ref.name, ignore_errors=True)
            return [v.code for v in versions]
        if ref.qualifier == LATEST:
            raise errors.invalid_parameter(
                "$LATEST version cannot be deleted without deleting the function."
            )
        if not names.is_version(ref.qualifier):
            raise errors.invalid_parameter(
                "Deletion of aliases is not supported by DeleteFunction; use DeleteAlias."
            )
        version = self.store.version(key, ref.qualifier)
        if version is None:
            return []  # AWS quirk: deleting a version that does not exist succeeds
        users = [
            a[0] for a in self.store.aliases(key) if a[1] == ref.qualifier or ref.qualifier in a[3]
        ]
        if users:
            raise errors.conflict(
                "Unable to delete version because the following aliases reference it: "
                f"[{', '.join(users)}]"
            )
        self.store.delete_version(key, ref.qualifier)
        self._forget(key)
        if not self.store.code_in_use(key, version.code.code_id):
            self._drop_code(ref, version.code)
        return [version.code]

    # -- versions -------------------------------------------------------------------------

    def publish(self, ref: FunctionRef, params: Mapping[str, Any]) -> Version:
        key = self.key(ref)
        self.function(ref)
        latest = self.version(ref, LATEST)
        _check_revision(latest, params.get("RevisionId"))
        wanted_sha = params.get("CodeSha256")
        if wanted_sha and wanted_sha != latest.code.sha256:
            raise errors.invalid_parameter(
                f"CodeSHA256 ({wanted_sha}) is different from current CodeSHA256 in $LATEST "
                f"({latest.code.sha256}). Please try again with the CodeSHA256 in $LATEST."
            )
        published = [v for v in self.store.versions(key) if v.version != LATEST]
        if published:
            last = published[-1]
            # AWS quirk: publishing an unchanged $LATEST returns the newest version instead
            # of creating a copy of it.
            if last.code.sha256 == latest.code.sha256 and last.config == latest.config:
                return last
        self._forget(key)
        with self.store.transaction():
            number = self.store.bump_version(key)
            version = dataclasses.replace(
                latest,
                version=str(number),
                revision_id=self.ids.uuid(),
                last_modified=self.clock.now(),
                description=params.get("Description") or "",
            )
            self.store.put_version(key, version)
        return version

    def versions(self, ref: FunctionRef) -> list[Version]:
        self.function(ref)
        return self.store.versions(self.key(ref))

    def names(self, account: str, region: str, after: str | None, limit: int) -> list[str]:
        return self.store.function_names(account, region, after, limit)

    # -- concurrency and tags -------------------------------------------------------------

    def put_concurrency(self, ref: FunctionRef, value: int) -> None:
        self.function(ref)
        others = self.store.reserved_total(ref.account, ref.region, ref.name)
        if ACCOUNT_CONCURRENCY - others - value < UNRESERVED_MINIMUM:
            raise errors.invalid_parameter(
                "Specified ReservedConcurrentExecutions for function decreases account's "
                f"UnreservedConcurrentExecution below its minimum value of [{UNRESERVED_MINIMUM}]."
            )
        self._forget(self.key(ref))
        self.store.set_concurrency(self.key(ref), value)

    def delete_concurrency(self, ref: FunctionRef) -> None:
        self.function(ref)
        self._forget(self.key(ref))
        self.store.set_concurrency(self.key(ref), None)

    def tag(self, ref: FunctionRef, tags: Mapping[str, str]) -> None:
        row = self.function(ref)
        self._forget(row.key)
        self.store.set_tags(row.key, {**row.tags, **tags})

    def untag(self, ref: FunctionRef, keys: list[str]) -> None:
        row = self.function(ref)
        self._forget(row.key)
        self.store.set_tags(row.key, {k: v for k, v in row.tags.items() if k not in keys})

    # -- code -----------------------------------------------------------------------------

    def _store_code(self, ref: FunctionRef, code: Mapping[str, Any], operation: str) -> Code:
        if code.get("ZipFile"):
            code_id = self.ids.uuid()
            info = extract_zip(
                bytes(code["ZipFile"]),
                self.code_root / ref.account / ref.region / ref.name / code_id,
                operation=operation,
            )
            return Code(info.sha256, info.size, code_id)
        bucket = code.get("S3Bucket")
        if bucket == HOT_RELOAD_BUCKET:
            folder = Path(code.get("S3Key") or "")
            if not folder.is_absolute() or not folder.is_dir():
                raise errors.invalid_parameter(
                    f"Folder mode (S3Bucket '{HOT_RELOAD_BUCKET}') needs S3Key to be an absolute "
                    f"path to an existing folder on the headwater machine; got {str(folder)!r}"
                )
            return Code(code_sha256(str(folder).encode()), 0, "", str(folder))
        if bucket or code.get("S3Key"):
            if not bucket or not code.get("S3Key"):
                raise errors.invalid_parameter("Please provide a source for function code.")
            if self.fetch_object is None:
                raise errors.not_supported(
                    "function code from S3 (S3Bucket/S3Key)",
                    "headwater's S3 service is not running; send the zip as ZipFile",
                )
            try:
                package = self.fetch_object(
                    str(bucket), str(code["S3Key"]), code.get("S3ObjectVersion")
                )
            except ServiceError as error:
                # AWS quirk: S3's failure is reported inside Lambda's own error.
                raise errors.invalid_parameter(
                    f"Error occurred while GetObject. S3 Error Code: {error.code}. "
                    f"S3 Error Message: {error.message}"
                ) from None
            code_id = self.ids.uuid()
            info = extract_zip(
                package,
                self.code_root / ref.account / ref.region / ref.name / code_id,
                operation=operation,
                check_upload=False,
            )
            return Code(info.sha256, info.size, code_id)
        if code.get("ImageUri"):
            raise errors.not_supported("container images (ImageUri)", "send the zip as ZipFile")
        raise errors.invalid_parameter("Please provide a source for function code.")

    def _drop_code(self, ref: FunctionRef, code: Code) -> None:
        if code.folder is None and code.code_id:
            shutil.rmtree(self.code_dir(ref, code), ignore_errors=True)


def _check_revision(version: Version, revision_id: str | None) -> None:
    if revision_id and revision_id != version.revision_id:
        raise errors.precondition_failed()

"""S3 on the wire: one method per operation, assembled from the object, bucket, listing and
upload groups (``objects``, ``buckets``, ``key_listings``, ``uploads``).

The gateway has parsed the request into the operation's input shape (streaming bodies as
streams) and serializes the returned dict with the rest-xml serializer and S3's quirks
(``protocol.serialize.s3``).
"""

from __future__ import annotations

from headwater.config import Settings
from headwater.services.s3.buckets import BucketOps
from headwater.services.s3.key_listings import ListingOps
from headwater.services.s3.model import S3
from headwater.services.s3.multipart import Multipart
from headwater.services.s3.notifications import Notifier
from headwater.services.s3.uploads import UploadOps


class S3Adapter(UploadOps, BucketOps, ListingOps):
    def __init__(self, s3: S3, settings: Settings, notifier: Notifier) -> None:
        self.s3 = s3
        self.settings = settings
        self.notifier = notifier
        self.multipart = Multipart(s3)

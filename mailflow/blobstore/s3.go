package blobstore

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"

	"github.com/minio/minio-go/v7"
	"github.com/minio/minio-go/v7/pkg/credentials"
)

// S3Config says where an S3-compatible store is and how to sign in to it.
// Endpoint is host[:port], without a scheme: UseSSL chooses https.
type S3Config struct {
	Endpoint, Bucket, Region, AccessKeyID, SecretAccessKey string
	UseSSL                                                 bool
}

// S3 is a Store in a bucket of any S3-compatible service (AWS S3, MinIO,
// Garage, Ceph, R2…). The object's key is the S3 key, and its content type
// is the object's Content-Type.
type S3 struct {
	client *minio.Client
	bucket string
}

var _ Store = (*S3)(nil)

// NewS3 connects to the store and checks that the bucket exists. It does
// not create a missing bucket: who may create buckets, where and with
// which policy is the operator's choice, not the daemon's.
func NewS3(ctx context.Context, cfg S3Config) (*S3, error) {
	if cfg.Endpoint == "" || cfg.Bucket == "" {
		return nil, errors.New("s3 blob store: endpoint and bucket are required")
	}
	if strings.Contains(cfg.Endpoint, "://") || strings.Contains(cfg.Endpoint, "/") {
		return nil, fmt.Errorf("s3 blob store: endpoint %q must be host[:port] without a scheme or path", cfg.Endpoint)
	}
	client, err := minio.New(cfg.Endpoint, &minio.Options{
		Creds:  credentials.NewStaticV4(cfg.AccessKeyID, cfg.SecretAccessKey, ""),
		Secure: cfg.UseSSL,
		Region: cfg.Region,
		// Auto: virtual-host style where the service is known to support
		// it (AWS), path style everywhere else (MinIO, IP addresses…).
		BucketLookup: minio.BucketLookupAuto,
	})
	if err != nil {
		return nil, fmt.Errorf("s3 blob store: %w", err)
	}
	ok, err := client.BucketExists(ctx, cfg.Bucket)
	if err != nil {
		return nil, fmt.Errorf("s3 blob store: checking bucket %q at %s: %w", cfg.Bucket, cfg.Endpoint, err)
	}
	if !ok {
		return nil, fmt.Errorf("s3 blob store: bucket %q does not exist at %s (create it first)", cfg.Bucket, cfg.Endpoint)
	}
	return &S3{client: client, bucket: cfg.Bucket}, nil
}

// Put stores r (exactly size bytes) under key.
func (s *S3) Put(ctx context.Context, key string, r io.Reader, size int64, contentType string) error {
	if err := CheckKey(key); err != nil {
		return err
	}
	if contentType == "" {
		contentType = defaultType
	}
	if err := checkSeekerSize(r, size); err != nil {
		return fmt.Errorf("put %q: %w", key, err)
	}
	opts := minio.PutObjectOptions{ContentType: contentType}
	if size == 0 {
		// minio-go's streaming signature (used over plain HTTP) sends an
		// empty body without a Content-Length, which S3 refuses
		// (MissingContentLength). There is no payload to sign anyway.
		opts.DisableContentSha256 = true
	}
	_, err := s.client.PutObject(ctx, s.bucket, key, r, size, opts)
	if err != nil {
		return fmt.Errorf("put %q: %w", key, err)
	}
	return nil
}

// checkSeekerSize refuses at once a seekable reader (a file, a
// bytes.Reader) that does not hold size bytes: minio-go would otherwise
// send it, fail, and retry with backoff for seconds.
func checkSeekerSize(r io.Reader, size int64) error {
	sk, ok := r.(io.Seeker)
	if !ok {
		return nil
	}
	cur, err := sk.Seek(0, io.SeekCurrent)
	if err != nil {
		return nil // not really seekable; let the upload find out
	}
	end, err := sk.Seek(0, io.SeekEnd)
	if err != nil {
		return err
	}
	if _, err := sk.Seek(cur, io.SeekStart); err != nil {
		return err
	}
	if end-cur != size {
		return fmt.Errorf("reader has %d bytes, want %d", end-cur, size)
	}
	return nil
}

// Get opens the object under key.
func (s *S3) Get(ctx context.Context, key string) (io.ReadCloser, Info, error) {
	if err := CheckKey(key); err != nil {
		return nil, Info{}, err
	}
	obj, err := s.client.GetObject(ctx, s.bucket, key, minio.GetObjectOptions{})
	if err != nil {
		return nil, Info{}, s.mapErr(err, "get", key)
	}
	// GetObject is lazy: Stat makes the request, and reports a missing key.
	st, err := obj.Stat()
	if err != nil {
		_ = obj.Close()
		return nil, Info{}, s.mapErr(err, "get", key)
	}
	ct := st.ContentType
	if ct == "" {
		ct = defaultType
	}
	return obj, Info{Size: st.Size, ContentType: ct}, nil
}

// Delete removes the object under key; S3 does not report a missing key.
func (s *S3) Delete(ctx context.Context, key string) error {
	if err := CheckKey(key); err != nil {
		return err
	}
	err := s.client.RemoveObject(ctx, s.bucket, key, minio.RemoveObjectOptions{})
	if err := s.mapErr(err, "delete", key); err != nil && !errors.Is(err, ErrNotFound) {
		return err
	}
	return nil
}

// Exists reports whether there is an object under key.
func (s *S3) Exists(ctx context.Context, key string) (bool, error) {
	if err := CheckKey(key); err != nil {
		return false, err
	}
	_, err := s.client.StatObject(ctx, s.bucket, key, minio.StatObjectOptions{})
	switch err := s.mapErr(err, "exists", key); {
	case err == nil:
		return true, nil
	case errors.Is(err, ErrNotFound):
		return false, nil
	default:
		return false, err
	}
}

func (s *S3) mapErr(err error, op, key string) error {
	if err == nil {
		return nil
	}
	resp := minio.ToErrorResponse(err)
	if resp.Code == minio.NoSuchKey || resp.StatusCode == http.StatusNotFound && resp.Code != minio.NoSuchBucket {
		return ErrNotFound
	}
	return fmt.Errorf("%s %q: %w", op, key, err)
}

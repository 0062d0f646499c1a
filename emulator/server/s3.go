package server

import (
	"net/http"
	"net/url"
	"strings"
)

// s3Operation names a path-style S3 REST request as the S3 API does
// ("GetBucketVersioning", "PutObject"), from its method, path and query:
// S3 carries no operation name on the wire.
func s3Operation(r *http.Request) string {
	path := strings.TrimPrefix(r.URL.Path, "/")
	bucket, key, _ := strings.Cut(path, "/")
	q := r.URL.Query()
	m := r.Method
	switch {
	case bucket == "":
		if m == http.MethodGet {
			return "ListBuckets"
		}
	case key == "":
		if name := s3BucketSubresource(m, q); name != "" {
			return name
		}
		switch m {
		case http.MethodPut:
			return "CreateBucket"
		case http.MethodDelete:
			return "DeleteBucket"
		case http.MethodHead:
			return "HeadBucket"
		case http.MethodGet:
			if q.Get("list-type") == "2" {
				return "ListObjectsV2"
			}
			return "ListObjects"
		}
	default:
		if name := s3ObjectOperation(r, q); name != "" {
			return name
		}
	}
	return m + " " + r.URL.Path
}

// s3BucketSubresources maps a bucket sub-resource query key to the name its
// GET, PUT and DELETE operations share.
var s3BucketSubresources = []struct {
	query                string
	get, put, deleteName string
}{
	{"versioning", "GetBucketVersioning", "PutBucketVersioning", ""},
	{"encryption", "GetBucketEncryption", "PutBucketEncryption", "DeleteBucketEncryption"},
	{"publicAccessBlock", "GetPublicAccessBlock", "PutPublicAccessBlock", "DeletePublicAccessBlock"},
	{"policy", "GetBucketPolicy", "PutBucketPolicy", "DeleteBucketPolicy"},
	{"lifecycle", "GetBucketLifecycleConfiguration", "PutBucketLifecycleConfiguration", "DeleteBucketLifecycle"},
	{"tagging", "GetBucketTagging", "PutBucketTagging", "DeleteBucketTagging"},
	{"acl", "GetBucketAcl", "PutBucketAcl", ""},
	{"location", "GetBucketLocation", "", ""},
	{"cors", "GetBucketCors", "PutBucketCors", "DeleteBucketCors"},
	{"website", "GetBucketWebsite", "PutBucketWebsite", "DeleteBucketWebsite"},
	{"logging", "GetBucketLogging", "PutBucketLogging", ""},
	{"notification", "GetBucketNotificationConfiguration", "PutBucketNotificationConfiguration", ""},
	{"ownershipControls", "GetBucketOwnershipControls", "PutBucketOwnershipControls", "DeleteBucketOwnershipControls"},
	{"object-lock", "GetObjectLockConfiguration", "PutObjectLockConfiguration", ""},
	{"replication", "GetBucketReplication", "PutBucketReplication", "DeleteBucketReplication"},
	{"accelerate", "GetBucketAccelerateConfiguration", "PutBucketAccelerateConfiguration", ""},
	{"requestPayment", "GetBucketRequestPayment", "PutBucketRequestPayment", ""},
	{"versions", "ListObjectVersions", "", ""},
	{"uploads", "ListMultipartUploads", "", ""},
}

func s3BucketSubresource(method string, q url.Values) string {
	if method == http.MethodPost && q.Has("delete") {
		return "DeleteObjects"
	}
	for _, s := range s3BucketSubresources {
		if !q.Has(s.query) {
			continue
		}
		switch method {
		case http.MethodGet:
			return s.get
		case http.MethodPut:
			return s.put
		case http.MethodDelete:
			return s.deleteName
		}
	}
	return ""
}

func s3ObjectOperation(r *http.Request, q url.Values) string {
	m := r.Method
	switch {
	case q.Has("uploadId"):
		// A HEAD with an uploadId is a HeadObject, as below.
		if m != http.MethodHead {
			return map[string]string{http.MethodPut: putOrCopy(r, "UploadPart", "UploadPartCopy"), http.MethodPost: "CompleteMultipartUpload",
				http.MethodDelete: "AbortMultipartUpload", http.MethodGet: "ListParts"}[m]
		}
	case q.Has("uploads") && m == http.MethodPost:
		return "CreateMultipartUpload"
	case q.Has("tagging"):
		return map[string]string{http.MethodGet: "GetObjectTagging", http.MethodPut: "PutObjectTagging", http.MethodDelete: "DeleteObjectTagging"}[m]
	case q.Has("acl"):
		return map[string]string{http.MethodGet: "GetObjectAcl", http.MethodPut: "PutObjectAcl"}[m]
	}
	return map[string]string{http.MethodPut: putOrCopy(r, "PutObject", "CopyObject"), http.MethodGet: "GetObject",
		http.MethodHead: "HeadObject", http.MethodDelete: "DeleteObject"}[m]
}

// putOrCopy names a PUT of an object or part: copy when the request names
// a copy source, plain otherwise.
func putOrCopy(r *http.Request, plain, copy string) string {
	if r.Header.Get("X-Amz-Copy-Source") != "" {
		return copy
	}
	return plain
}

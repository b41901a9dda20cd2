/* aws_credentials.h - the AWS credential chain, in the AWS SDKs' order:
 *
 *   1. the environment: AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY and
 *      AWS_SESSION_TOKEN;
 *   2. the profile (AWS_PROFILE, else "default") in the shared
 *      credentials file (AWS_SHARED_CREDENTIALS_FILE, ~/.aws/credentials:
 *      [NAME]) and the config file (AWS_CONFIG_FILE, ~/.aws/config:
 *      [profile NAME], or [default]): static keys, or credential_process;
 *   3. the container endpoint (AWS_CONTAINER_CREDENTIALS_FULL_URI or
 *      _RELATIVE_URI, with AWS_CONTAINER_AUTHORIZATION_TOKEN(_FILE));
 *   4. EC2 instance metadata, IMDSv2 (AWS_EC2_METADATA_SERVICE_ENDPOINT),
 *      unless AWS_EC2_METADATA_DISABLED=true.
 *
 * A secret never appears in an error message, a log line or an argv:
 * messages name the source, the file and line or the key, never a value.
 * Secrets are zeroed before their memory is freed. */
#ifndef SK_AWS_CREDENTIALS_H
#define SK_AWS_CREDENTIALS_H

#include <time.h>
#include "err.h"

typedef struct sk_aws_creds {
	char *access_key_id;
	char *secret_access_key;
	char *session_token;        /* NULL when there is none */
	time_t expires;             /* 0: never */
	char source[64];            /* "environment", "profile NAME", ...: for messages */
} sk_aws_creds;

typedef struct sk_aws_provider sk_aws_provider;

/* A provider of the environment as it is now (read once, here). */
sk_aws_provider *sk_aws_provider_new(sk_err *e);
/* The credentials, from the cache while they are more than five minutes
 * from expiring, else from the chain again (a failed refresh keeps the old
 * ones while they last). *out is valid until the next call or the free.
 * Not thread-safe: call it from one thread. */
int sk_aws_provider_get(sk_aws_provider *p, const sk_aws_creds **out, sk_err *e);
/* The region: AWS_REGION, AWS_DEFAULT_REGION, or the profile's `region`
 * in the config file. A malloc'd string; NULL with e->code 0 when none is
 * set, NULL with e->code set on an error. */
char *sk_aws_provider_region(sk_aws_provider *p, sk_err *e);
void sk_aws_provider_free(sk_aws_provider *p);

#endif

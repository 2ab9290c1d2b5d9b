/*
 * aws_creds.c — the AWS credential chain: environment, shared credentials file, EC2 instance
 * metadata (IMDSv2), with a cache that refreshes expiring credentials ahead of time.
 *
 * Deliberately not here: signing (libcurl does SigV4 in sm.c), logging (errors go back as
 * text), assume-role and the other SDK sources listed in the header. Every buffer that held
 * a key, a token, the credentials file or a metadata response is wiped before it is freed.
 */
#include "aws_creds.h"

#include <cjson/cJSON.h>
#include <curl/curl.h>
#include <fcntl.h>
#include <stdio.h>
#include <strings.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "codec/secret.h"

#define REFRESH_AHEAD_S 300
#define IMDS_DEFAULT "http://169.254.169.254"
#define IMDS_TOKEN_TTL "21600"
#define IMDS_CONNECT_TIMEOUT_MS 1000L
#define IMDS_TIMEOUT_MS 2000L
#define CREDS_FILE_MAX (1024 * 1024)
#define RESPONSE_MAX (32u * 1024 * 1024)

struct gpd_aws_provider {
	char *profile; /* configured aws.profile, or NULL */
	struct gpd_aws_creds creds;
	bool have;
};

static void
creds_release(struct gpd_aws_creds *c)
{
	free(c->access_key_id);
	gp_secret_free_string(c->secret_access_key);
	gp_secret_free_string(c->session_token);
	*c = (struct gpd_aws_creds){0};
}

int
gpd_aws_provider_new(const char *profile, struct gpd_aws_provider **ret)
{
	struct gpd_aws_provider *p = calloc(1, sizeof(*p));

	if (!p)
		return -ENOMEM;
	if (!gp_isempty(profile)) {
		p->profile = strdup(profile);
		if (!p->profile) {
			free(p);
			return -ENOMEM;
		}
	}
	*ret = p;
	return 0;
}

void
gpd_aws_provider_free(struct gpd_aws_provider *p)
{
	if (!p)
		return;
	creds_release(&p->creds);
	free(p->profile);
	free(p);
}

void
gpd_aws_creds_invalidate(struct gpd_aws_provider *p)
{
	creds_release(&p->creds);
	p->have = false;
}

size_t
gpd_aws_curl_write_secure(char *ptr, size_t size, size_t nmemb, void *userdata)
{
	struct gp_buf *b = userdata;
	size_t n = size * nmemb, cap;
	char *np;

	if (n > RESPONSE_MAX || b->len + n > RESPONSE_MAX)
		return 0; /* curl fails the transfer with CURLE_WRITE_ERROR */
	if (b->len + n + 1 > b->cap) {
		cap = b->cap ? b->cap * 2 : 16384;
		while (cap < b->len + n + 1)
			cap *= 2;
		np = malloc(cap);
		if (!np)
			return 0;
		if (b->p) {
			memcpy(np, b->p, b->len);
			explicit_bzero(b->p, b->cap);
			free(b->p);
		}
		b->p = np;
		b->cap = cap;
	}
	memcpy(b->p + b->len, ptr, n);
	b->len += n;
	b->p[b->len] = '\0';
	return n;
}

/* ---------------------------------------------------------------------------------------
 * 1. Environment
 */

/* Returns 1 when found, 0 when not set (noted in why), or -EINVAL/-ENOMEM. */
static int
from_env(struct gpd_aws_creds *c, struct gp_buf *why)
{
	const char *id = getenv("AWS_ACCESS_KEY_ID");
	const char *key = getenv("AWS_SECRET_ACCESS_KEY");
	const char *token = getenv("AWS_SESSION_TOKEN");

	if (gp_isempty(id) && gp_isempty(key)) {
		gp_buf_puts(why, "environment: not set");
		return 0;
	}
	if (gp_isempty(id) || gp_isempty(key)) {
		gp_buf_printf(why, "environment: %s is set but %s is not",
			      gp_isempty(id) ? "AWS_SECRET_ACCESS_KEY" : "AWS_ACCESS_KEY_ID",
			      gp_isempty(id) ? "AWS_ACCESS_KEY_ID" : "AWS_SECRET_ACCESS_KEY");
		return -EINVAL;
	}
	c->access_key_id = strdup(id);
	c->secret_access_key = strdup(key);
	c->session_token = gp_isempty(token) ? NULL : strdup(token);
	if (!c->access_key_id || !c->secret_access_key || (!gp_isempty(token) && !c->session_token))
		return -ENOMEM;
	c->source = "environment";
	return 1;
}

/* ---------------------------------------------------------------------------------------
 * 2. Shared credentials file
 */

/*
 * Reads a whole file into out with one allocation sized from fstat(), so that no copy is left
 * behind by growth; release out with gp_buf_release_secure() (which wipes all of it, even
 * after a parser has put NULs into it). -ENOENT, -EFBIG, -EINVAL (not a file), -errno.
 */
static int
read_secret_file(const char *path, struct gp_buf *out)
{
	struct stat st;
	int fd, r;

	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
	if (fd < 0)
		return -errno;
	r = fstat(fd, &st) < 0 ? -errno : 0;
	if (r == 0 && !S_ISREG(st.st_mode))
		r = -EINVAL;
	if (r == 0 && st.st_size > CREDS_FILE_MAX)
		r = -EFBIG;
	if (r == 0)
		r = gp_buf_reserve(out, (size_t)st.st_size);
	while (r == 0 && out->len < (size_t)st.st_size) {
		ssize_t n = read(fd, out->p + out->len, (size_t)st.st_size - out->len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			r = -errno;
		if (n <= 0)
			break; /* a file that shrank while being read: take what is there */
		out->len += (size_t)n;
	}
	if (out->p)
		out->p[out->len] = '\0';
	close(fd);
	return r;
}

static char *
trim(char *s)
{
	char *e;

	while (*s == ' ' || *s == '\t' || *s == '\r')
		s++;
	e = s + strlen(s);
	while (e > s && (e[-1] == ' ' || e[-1] == '\t' || e[-1] == '\r'))
		*--e = '\0';
	return s;
}

/* One "key = value" line of the wanted profile. Returns 0 or -ENOMEM. */
static int
ini_take(struct gpd_aws_creds *c, char *line)
{
	char *eq = strchr(line, '='), *key, *value, **dst = NULL;

	if (!eq)
		return 0;
	*eq = '\0';
	key = trim(line);
	value = trim(eq + 1);
	if (strcasecmp(key, "aws_access_key_id") == 0)
		dst = &c->access_key_id;
	else if (strcasecmp(key, "aws_secret_access_key") == 0)
		dst = &c->secret_access_key;
	else if (strcasecmp(key, "aws_session_token") == 0 ||
		 (strcasecmp(key, "aws_security_token") == 0 && !c->session_token))
		dst = &c->session_token;
	if (!dst || !*value)
		return 0;
	gp_secret_free_string(*dst);
	*dst = strdup(value);
	return *dst ? 0 : -ENOMEM;
}

/*
 * Parses the INI text in place and fills c from section [profile]: "#" and ";" start comment
 * lines, whitespace around names and values is ignored, a later key wins. Returns 1 when the
 * section exists, 0 when not, -ENOMEM.
 */
static int
ini_parse(char *text, const char *profile, struct gpd_aws_creds *c)
{
	bool in = false, found = false;
	char *save = NULL;
	int r;

	for (char *line = strtok_r(text, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		char *s = trim(line), *end;

		if (*s == '#' || *s == ';' || !*s)
			continue;
		if (*s == '[') {
			end = strchr(s, ']');
			if (end)
				*end = '\0';
			in = end && strcmp(trim(s + 1), profile) == 0;
			found = found || in;
			continue;
		}
		if (in && (r = ini_take(c, s)) < 0)
			return r;
	}
	return found;
}

static char *
credentials_path(void)
{
	const char *env = getenv("AWS_SHARED_CREDENTIALS_FILE"), *home = getenv("HOME");

	if (!gp_isempty(env) && strncmp(env, "~/", 2) != 0)
		return strdup(env);
	if (gp_isempty(home))
		return NULL;
	return gp_strprintf("%s/%s", home, gp_isempty(env) ? ".aws/credentials" : env + 2);
}

/* Which profile, and whether it was asked for by name (then missing is an error). */
static const char *
profile_name(const struct gpd_aws_provider *p, bool *named)
{
	const char *env = getenv("AWS_PROFILE");

	*named = true;
	if (p->profile)
		return p->profile;
	if (!gp_isempty(env))
		return env;
	*named = false;
	return "default";
}

/* Returns 1 when found, 0 when absent (noted in why), or -errno (explained in why). */
static int
from_file(const struct gpd_aws_provider *p, struct gpd_aws_creds *c, struct gp_buf *why)
{
	_cleanup_free_ char *path = credentials_path();
	_cleanup_(gp_buf_release_secure) struct gp_buf text = {0};
	bool named;
	const char *profile = profile_name(p, &named);
	int r;

	if (!path) {
		gp_buf_puts(why, "; shared credentials file: HOME not set");
		return named ? -EINVAL : 0;
	}
	r = read_secret_file(path, &text);
	if (r < 0) {
		gp_buf_printf(why, "; shared credentials file %s: %s", path,
			      r == -ENOENT ? "not found" :
			      r == -EINVAL ? "not a regular file" : strerror(-r));
		if (r == -ENOENT)
			return named ? -EINVAL : 0;
		return r;
	}
	r = ini_parse(text.p, profile, c);
	if (r <= 0) {
		gp_buf_printf(why, "; shared credentials file %s: no profile [%s]", path, profile);
		if (r < 0)
			return r;
		return named ? -EINVAL : 0;
	}
	if (gp_isempty(c->access_key_id) || gp_isempty(c->secret_access_key)) {
		gp_buf_printf(why,
			      "; shared credentials file %s: profile [%s] has no aws_access_key_id "
			      "and aws_secret_access_key (only static keys are supported)",
			      path, profile);
		return -EINVAL;
	}
	c->source = "shared credentials file";
	return 1;
}

/* ---------------------------------------------------------------------------------------
 * 3. EC2 instance metadata (IMDSv2)
 */

static int
curl_errno(CURLcode cc)
{
	switch (cc) {
	case CURLE_COULDNT_CONNECT:
		return -ECONNREFUSED;
	case CURLE_OPERATION_TIMEDOUT:
		return -ETIMEDOUT;
	case CURLE_OUT_OF_MEMORY:
		return -ENOMEM;
	default:
		return -EIO;
	}
}

/*
 * One request to the metadata service: PUT (token == NULL: fetch a session token) or GET
 * with the token. Fills body (secure). Returns 0, -ENOENT for HTTP 404, -errno otherwise;
 * the reason goes into why.
 */
static int
imds_request(CURL *curl, const char *url, const char *token, struct gp_buf *body,
	     struct gp_buf *why)
{
	_cleanup_secret_ char *hdr = NULL;
	struct curl_slist *headers;
	long status = 0;
	CURLcode cc;

	if (token)
		hdr = gp_strprintf("X-aws-ec2-metadata-token: %s", token);
	else
		hdr = gp_strprintf("X-aws-ec2-metadata-token-ttl-seconds: %s", IMDS_TOKEN_TTL);
	if (!hdr)
		return -ENOMEM;
	headers = curl_slist_append(NULL, hdr);
	if (!headers)
		return -ENOMEM;
	curl_easy_setopt(curl, CURLOPT_URL, url);
	curl_easy_setopt(curl, CURLOPT_HTTPHEADER, headers);
	curl_easy_setopt(curl, CURLOPT_CUSTOMREQUEST, token ? NULL : "PUT");
	curl_easy_setopt(curl, CURLOPT_WRITEDATA, body);
	cc = curl_easy_perform(curl);
	curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &status);
	curl_easy_setopt(curl, CURLOPT_HTTPHEADER, NULL);
	/* curl_slist_free_all() does not wipe, and the header carries the session token. */
	explicit_bzero(headers->data, strlen(headers->data));
	curl_slist_free_all(headers);
	if (cc != CURLE_OK) {
		gp_buf_printf(why, "; instance metadata: %s", curl_easy_strerror(cc));
		return curl_errno(cc);
	}
	if (status != 200) {
		gp_buf_printf(why, "; instance metadata: HTTP %ld from the %s request", status,
			      token ? "credentials" : "token");
		return status == 404 ? -ENOENT : -EIO;
	}
	return 0;
}

static CURL *
imds_curl(void)
{
	CURL *curl = curl_easy_init();

	if (!curl)
		return NULL;
	curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(curl, CURLOPT_NOPROXY, "*");
	curl_easy_setopt(curl, CURLOPT_PROTOCOLS_STR, "http,https");
	curl_easy_setopt(curl, CURLOPT_CONNECTTIMEOUT_MS, IMDS_CONNECT_TIMEOUT_MS);
	curl_easy_setopt(curl, CURLOPT_TIMEOUT_MS, IMDS_TIMEOUT_MS);
	curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, gpd_aws_curl_write_secure);
	curl_easy_setopt(curl, CURLOPT_USERAGENT, "gprdsd/" GPRDSD_VERSION);
	return curl;
}

/* An IAM role name as IMDS lists it: [\w+=,.@-]+, which is also safe to put in a URL path. */
static bool
role_name_valid(const char *s)
{
	if (!*s || strlen(s) > 128)
		return false;
	for (; *s; s++)
		if (!((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') ||
		      (*s >= '0' && *s <= '9') || strchr("_+=,.@-", *s)))
			return false;
	return true;
}

static const char *
json_str(const cJSON *obj, const char *key)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, key);

	return cJSON_IsString(v) && *v->valuestring ? v->valuestring : NULL;
}

/* Fills c from the role's credentials document. Returns 1, -EINVAL or -ENOMEM. */
static int
imds_parse(const char *text, struct gpd_aws_creds *c, struct gp_buf *why)
{
	cJSON *root = cJSON_Parse(text);
	const char *code = json_str(root, "Code"), *id = json_str(root, "AccessKeyId");
	const char *key = json_str(root, "SecretAccessKey"), *token = json_str(root, "Token");
	const char *exp = json_str(root, "Expiration");
	int r = -EINVAL;

	if (!cJSON_IsObject(root) || !id || !key || !exp || gp_time_parse(exp, &c->expires) < 0) {
		gp_buf_puts(why, "; instance metadata: malformed credentials document");
	} else if (code && strcmp(code, "Success") != 0) {
		gp_buf_puts(why, "; instance metadata: credentials Code is not Success");
	} else {
		c->access_key_id = strdup(id);
		c->secret_access_key = strdup(key);
		c->session_token = token ? strdup(token) : NULL;
		r = c->access_key_id && c->secret_access_key && (!token || c->session_token) ?
			    1 :
			    -ENOMEM;
		c->source = "instance metadata";
	}
	gp_secret_json_delete(root);
	return r;
}

static bool
imds_disabled(void)
{
	const char *v = getenv("AWS_EC2_METADATA_DISABLED");

	return v && strcasecmp(v, "true") == 0;
}

/* Fetches the role name into role (NUL-terminated, validated). */
static int
imds_role(CURL *curl, const char *base, const char *token, char *role, size_t len,
	  struct gp_buf *why)
{
	_cleanup_free_ char *url = NULL;
	_cleanup_(gp_buf_release_secure) struct gp_buf body = {0};
	char *name;
	int r;

	url = gp_strprintf("%s/latest/meta-data/iam/security-credentials/", base);
	if (!url)
		return -ENOMEM;
	r = imds_request(curl, url, token, &body, why);
	if (r == -ENOENT)
		gp_buf_puts(why, " (no IAM role attached to the instance)");
	if (r < 0)
		return r == -ENOENT ? -ENOKEY : r;
	/* One role per instance profile; the listing is one name per line. */
	name = body.p ? trim(strtok(body.p, "\n") ?: "") : "";
	if (!role_name_valid(name) || strlen(name) >= len) {
		gp_buf_puts(why, "; instance metadata: malformed role name");
		return -EINVAL;
	}
	strcpy(role, name);
	return 0;
}

/* Token, role name, then the role's credentials document into doc. */
static int
imds_fetch(CURL *curl, const char *base, struct gp_buf *doc, struct gp_buf *why)
{
	_cleanup_(gp_buf_release_secure) struct gp_buf token = {0};
	_cleanup_free_ char *url = NULL;
	char role[130];
	int r;

	url = gp_strprintf("%s/latest/api/token", base);
	if (!url)
		return -ENOMEM;
	r = imds_request(curl, url, NULL, &token, why);
	if (r < 0)
		return r == -ENOENT ? -EIO : r;
	if (!token.p || !*trim(token.p)) {
		gp_buf_puts(why, "; instance metadata: empty session token");
		return -EIO;
	}
	r = imds_role(curl, base, trim(token.p), role, sizeof(role), why);
	if (r < 0)
		return r;
	free(url);
	url = gp_strprintf("%s/latest/meta-data/iam/security-credentials/%s", base, role);
	if (!url)
		return -ENOMEM;
	r = imds_request(curl, url, trim(token.p), doc, why);
	return r == -ENOENT ? -ENOKEY : r;
}

/* Returns 1 when found, 0 when disabled, -errno otherwise (explained in why). */
static int
from_imds(struct gpd_aws_creds *c, struct gp_buf *why)
{
	const char *env = getenv("AWS_EC2_METADATA_SERVICE_ENDPOINT");
	_cleanup_free_ char *base = strdup(gp_isempty(env) ? IMDS_DEFAULT : env);
	_cleanup_(gp_buf_release_secure) struct gp_buf doc = {0};
	CURL *curl;
	int r;

	if (imds_disabled()) {
		gp_buf_puts(why, "; instance metadata: disabled by AWS_EC2_METADATA_DISABLED");
		return 0;
	}
	if (!base)
		return -ENOMEM;
	for (size_t n = strlen(base); n > 0 && base[n - 1] == '/'; n--)
		base[n - 1] = '\0';
	curl = imds_curl();
	if (!curl)
		return -ENOMEM;
	r = imds_fetch(curl, base, &doc, why);
	curl_easy_cleanup(curl);
	if (r < 0)
		return r;
	return imds_parse(doc.p ? doc.p : "", c, why);
}

/* ---------------------------------------------------------------------------------------
 * The chain and the cache
 */

static int
resolve(struct gpd_aws_provider *p, struct gpd_aws_creds *c, struct gp_buf *why)
{
	int r;

	r = from_env(c, why);
	if (r == 0)
		r = from_file(p, c, why);
	if (r == 0)
		r = from_imds(c, why);
	if (r == 0)
		r = -ENOKEY;
	return r < 0 ? r : 0;
}

static bool
usable(const struct gpd_aws_creds *c, int64_t now, int64_t ahead)
{
	return c->expires == 0 || now < c->expires - ahead;
}

int
gpd_aws_creds_get(struct gpd_aws_provider *p, const struct gpd_aws_creds **ret, char **ret_err)
{
	_cleanup_(gp_buf_release) struct gp_buf why = {0};
	struct gpd_aws_creds fresh = {0};
	int64_t now = (int64_t)time(NULL);
	int r;

	if (p->have && usable(&p->creds, now, REFRESH_AHEAD_S)) {
		*ret = &p->creds;
		return 0;
	}
	r = resolve(p, &fresh, &why);
	if (r < 0) {
		const char *what = r == -ENOKEY ? "no AWS credentials" : "AWS credentials";

		creds_release(&fresh);
		/* A failed early refresh keeps credentials that are still valid. */
		if (p->have && usable(&p->creds, now, 0)) {
			*ret = &p->creds;
			return 0;
		}
		if (ret_err && r != -ENOMEM)
			*ret_err = gp_strprintf("%s: %s", what, why.p ? why.p : "");
		return r;
	}
	creds_release(&p->creds);
	p->creds = fresh;
	p->have = true;
	*ret = &p->creds;
	return 0;
}

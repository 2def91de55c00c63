#!/usr/bin/env bats
# gh-regtoken: repo and org scope, PAT and GitHub App, SSM storage, errors,
# rate limits and retries, against the local cloud's GitHub (GHES-style
# base URL: $GITHUB_API_URL ends in /api/v3).

load helpers
bats_require_minimum_version 1.5.0

load cloud-file
setup() {
	cloud_reset
	cloud_ctl POST /github/repos '{"repos":["acme/web","solo/tool"],"orgs":["acme"]}' >/dev/null
	cloud_ctl POST /github/tokens '{"tokens":[
		{"token":"ghp_classicAll0000000000000000000000","scopes":["repo","admin:org"]},
		{"token":"ghp_classicRepo000000000000000000000","scopes":["repo"]},
		{"token":"github_pat_readonly_000000000000","permissions":{"acme/web":{"administration":"read"}}},
		{"token":"github_pat_orgwrite_000000000000","orgs":{"acme":{"organization_self_hosted_runners":"write"}}},
		{"token":"ghp_expired000000000000000000000000","scopes":["repo"],"expires_at":1000}]}' >/dev/null
	export GITHUB_TOKEN=ghp_classicAll0000000000000000000000
}


# issued registration tokens (the control API shows their values)
issued() {
	cloud_ctl GET /github/registration-tokens | jq -r ".tokens[] | select(.purpose == \"${1:-register}\") | .token"
}

# the GitHub calls, JSON Lines
gh_calls() {
	cloud_calls | jq -c 'select(.service == "github")'
}

# no call that changes anything reached the cloud
no_mutation() {
	[ "$(cloud_calls | jq -s 'map(select(.mutating)) | length')" -eq 0 ]
}

# an app with an RSA key made here; installations as JSON
make_app() {
	openssl genrsa -out "$BATS_TEST_TMPDIR/app.pem" 2048 2>/dev/null
	openssl rsa -in "$BATS_TEST_TMPDIR/app.pem" -pubout -out "$BATS_TEST_TMPDIR/app.pub" 2>/dev/null
	cloud_ctl POST /github/apps "$(jq -n --arg k "$(cat "$BATS_TEST_TMPDIR/app.pub")" \
		--argjson i "$1" '{app_id: 4242, public_key_pem: $k, installations: $i}')" >/dev/null
}

@test "gh-regtoken --help matches the man page SYNOPSIS, exit 0" {
	run -0 gh-regtoken --help
	[[ ${lines[0]} == "usage: gh-regtoken "* ]]
	want=$(gh-regtoken --help | sed -n '/^usage:/,/^$/p' | sed 's/^usage: //' | tr -s ' \t\n' ' ')
	got=$(mandoc -Tascii "$REPO_ROOT/man/gh-regtoken.1" | col -b |
		sed -n '/^SYNOPSIS/,/^DESCRIPTION/{/^[A-Z]/d;p}' | tr -s ' \t\n' ' ')
	[ "${got# }" = "${want# }" ] || [ "${got# }" = "$want" ]
	run -0 mandoc -Tlint -Wwarning "$REPO_ROOT/man/gh-regtoken.1"
}

@test "repo scope, classic token: prints the issued token, with GitHub's headers" {
	run -0 --separate-stderr gh-regtoken --scope acme/web
	[ "${#lines[@]}" -eq 1 ]
	[ -z "$stderr" ]
	tok=$(issued)
	jq -e --arg t "$tok" --arg u "$GITHUB_SERVER_URL/acme/web" \
		'.token == $t and .scope == "acme/web" and .url == $u
		and (.expires_at | test("^20[0-9-]+T[0-9:.]+(Z|[+]00:00)$"))' <<<"$output"
	run -0 gh_calls
	[ "${#lines[@]}" -eq 1 ]
	jq -e '.action == "actions/create-registration-token-for-repo" and .status == 201
		and .user_agent_ok and .accept_ok and .api_version_ok and .auth_kind == "classic"
		and (.path | startswith("/api/v3/repos/acme/web/"))' <<<"${lines[0]}"
}

@test "org scope, fine-grained token from --token-file" {
	unset GITHUB_TOKEN
	printf 'github_pat_orgwrite_000000000000\n' >"$BATS_TEST_TMPDIR/token"
	run -0 --separate-stderr gh-regtoken --scope acme --token-file "$BATS_TEST_TMPDIR/token"
	jq -e --arg t "$(issued)" --arg u "$GITHUB_SERVER_URL/acme" \
		'.token == $t and .scope == "acme" and .url == $u' <<<"$output"
	gh_calls | jq -e 'select(.action == "actions/create-registration-token-for-org")
		| .auth_kind == "fine-grained" and .status == 201'
}

@test "GitHub App, repo scope: JWT, installation lookup, installation token" {
	unset GITHUB_TOKEN
	make_app '[{"id":77,"account":"acme"}]'
	run -0 --separate-stderr gh-regtoken --scope acme/web --app-id 4242 \
		--app-key-file "$BATS_TEST_TMPDIR/app.pem"
	jq -e --arg t "$(issued)" '.token == $t and .scope == "acme/web"' <<<"$output"
	run -0 gh_calls
	[ "${#lines[@]}" -eq 3 ]
	jq -e '.action == "apps/get-repo-installation" and .auth_kind == "jwt" and .status == 200' <<<"${lines[0]}"
	jq -e '.action == "apps/create-installation-access-token" and .auth_kind == "jwt"
		and .status == 201 and (.path | endswith("/app/installations/77/access_tokens"))' <<<"${lines[1]}"
	jq -e '.action == "actions/create-registration-token-for-repo" and .auth_kind == "installation"
		and .status == 201' <<<"${lines[2]}"
}

@test "GitHub App, org scope, key PEM in GITHUB_APP_PRIVATE_KEY, id in GITHUB_APP_ID" {
	make_app '[{"id":78,"account":"acme"}]'
	GITHUB_APP_PRIVATE_KEY=$(cat "$BATS_TEST_TMPDIR/app.pem") GITHUB_APP_ID=4242 \
		run -0 --separate-stderr gh-regtoken --scope acme
	jq -e --arg t "$(issued)" '.token == $t and .scope == "acme"' <<<"$output"
	gh_calls | jq -s -e 'map(.action) == ["apps/get-org-installation",
		"apps/create-installation-access-token", "actions/create-registration-token-for-org"]'
	# the app won over GITHUB_TOKEN
	gh_calls | jq -s -e 'last | .auth_kind == "installation"'
	# a PEM squeezed onto one line with literal \n, as some secret stores do
	oneline=$(awk '{printf "%s\\n", $0}' "$BATS_TEST_TMPDIR/app.pem")
	[[ $oneline != *$'\n'* ]]
	GITHUB_APP_PRIVATE_KEY=$oneline GITHUB_APP_ID=4242 run -0 gh-regtoken --scope acme
	jq -e '.scope == "acme"' <<<"$output"
}

@test "GitHub App not installed on the repository: says so, exit 100" {
	unset GITHUB_TOKEN
	make_app '[{"id":79,"account":"acme","repositories":["web"]}]'
	run -100 --separate-stderr gh-regtoken --scope solo/tool --app-id 4242 \
		--app-key-file "$BATS_TEST_TMPDIR/app.pem"
	[ -z "$output" ]
	[ "${#stderr_lines[@]}" -eq 1 ]
	[[ $stderr == "gh-regtoken: github GET /repos/solo/tool/installation: 404 "*"not installed on this repository"* ]]
	no_mutation
}

@test "GitHub App with a key GitHub does not know: the JWT is refused, exit 100" {
	unset GITHUB_TOKEN
	make_app '[{"id":80,"account":"acme"}]'
	openssl genrsa -out "$BATS_TEST_TMPDIR/other.pem" 2048 2>/dev/null
	run -100 --separate-stderr gh-regtoken --scope acme/web --app-id 4242 \
		--app-key-file "$BATS_TEST_TMPDIR/other.pem"
	[[ $stderr == *"401 A JSON web token could not be decoded"*"private key"* ]]
	# not a key at all: refused before any call
	cloud_ctl DELETE /calls >/dev/null
	echo "not a key" >"$BATS_TEST_TMPDIR/bad.pem"
	run -100 --separate-stderr gh-regtoken --scope acme/web --app-id 4242 \
		--app-key-file "$BATS_TEST_TMPDIR/bad.pem"
	[[ $stderr == *"app private key: not an unencrypted PEM private key"* ]]
	[ -z "$(gh_calls)" ]
}

@test "expired or revoked token: 401, message says so, exit 100" {
	GITHUB_TOKEN=ghp_expired000000000000000000000000 run -100 --separate-stderr gh-regtoken --scope acme/web
	[ -z "$output" ]
	[ "${#stderr_lines[@]}" -eq 1 ]
	[[ $stderr == *"401 Bad credentials: the token is invalid, expired or revoked"* ]]
	[[ $stderr != *ghp_expired* ]]
	cloud_ctl POST /github/tokens "{\"token\":\"$GITHUB_TOKEN\",\"revoked\":true}" >/dev/null
	run -100 --separate-stderr gh-regtoken --scope acme/web
	[[ $stderr == *"expired or revoked"* ]]
}

@test "missing permission: the message names it, exit 100" {
	GITHUB_TOKEN=github_pat_readonly_000000000000 run -100 --separate-stderr gh-regtoken --scope acme/web
	[[ $stderr == *"403 Resource not accessible by personal access token"*"administration: write"*"repo scope"* ]]
	GITHUB_TOKEN=ghp_classicRepo000000000000000000000 run -100 --separate-stderr gh-regtoken --scope acme
	[[ $stderr == *"403"*"organization_self_hosted_runners: write"*"admin:org"* ]]
	GITHUB_TOKEN=github_pat_orgwrite_000000000000 run -100 --separate-stderr gh-regtoken --scope acme/web
	[[ $stderr == *"404 Not Found: no such repository, or the token cannot see it"* ]]
	unset GITHUB_TOKEN
	make_app '[{"id":81,"account":"acme","permissions":{"metadata":"read"}}]'
	run -100 --separate-stderr gh-regtoken --scope acme --app-id 4242 \
		--app-key-file "$BATS_TEST_TMPDIR/app.pem"
	[[ $stderr == *"403 Resource not accessible by integration"*"installation"*"organization_self_hosted_runners"* ]]
}

@test "secondary rate limit with Retry-After: waited, retried, succeeds" {
	cloud_fault '{"service":"github","action":"actions/create-registration-token-for-repo","kind":"secondary","count":1,"retry_after":1}' \
		'{"service":"github","action":"actions/create-registration-token-for-repo","kind":"secondary","status":429,"count":1,"retry_after":1}'
	start=$(date +%s%N)
	run -0 --separate-stderr gh-regtoken --scope acme/web
	elapsed=$(( ($(date +%s%N) - start) / 1000000 ))
	[ "$elapsed" -ge 2000 ]
	jq -e --arg t "$(issued)" '.token == $t' <<<"$output"
	gh_calls | jq -s -e 'map(.status) == [403, 429, 201]'
}

@test "secondary rate limit without Retry-After: a minute at least, never seconds (111 when too long)" {
	# GitHub: "wait for at least one minute before retrying"; with waits
	# capped at 10 s the minute is too long: fail at once, saying when
	cloud_fault '{"service":"github","action":"actions/create-registration-token-for-repo","kind":"secondary","count":1,"retry_after":null}'
	t0=$(date +%s)
	GITHUB_MAX_WAIT=10 run -111 --separate-stderr gh-regtoken --scope acme/web
	[ $(($(date +%s) - t0)) -lt 5 ]
	[[ $stderr == *"403 rate limited: You have exceeded a secondary rate limit"*"try again after $(date -u -d "@$((t0 + 60))" +%Y-%m-%dT%H:%M)"* ||
		$stderr == *"try again after $(date -u -d "@$((t0 + 61))" +%Y-%m-%dT%H:%M)"* ]]
	gh_calls | jq -s -e 'map(.status) == [403]'
}

@test "primary rate limit: waits for a near reset, fails at once for a far one (111)" {
	cloud_fault '{"service":"github","action":"*","kind":"ratelimit","count":1,"reset_in":1}'
	run -0 --separate-stderr gh-regtoken --scope acme/web
	gh_calls | jq -s -e 'map(.status) == [403, 201]'
	cloud_ctl DELETE /calls >/dev/null
	cloud_fault '{"service":"github","action":"*","kind":"ratelimit","count":1,"reset_in":3600}'
	run -111 --separate-stderr gh-regtoken --scope acme/web
	[ -z "$output" ]
	[[ $stderr == *"403 rate limited: API rate limit exceeded"*"try again after 20"* ]]
	[ "$(gh_calls | wc -l)" -eq 1 ]
}

@test "5xx and dropped connections are retried; persistent 5xx is 111" {
	cloud_fault '{"service":"github","action":"*","kind":"5xx","count":2}' \
		'{"service":"github","action":"*","kind":"reset","count":1}'
	run -0 --separate-stderr gh-regtoken --scope acme/web
	jq -e --arg t "$(issued)" '.token == $t' <<<"$output"
	cloud_ctl DELETE /calls >/dev/null
	cloud_fault '{"service":"github","action":"*","kind":"5xx","count":10}'
	run -111 --separate-stderr gh-regtoken --scope acme/web
	[[ $stderr == *"502 Server Error (after 5 attempts)"* ]]
	[ "$(gh_calls | wc -l)" -eq 5 ]
}

@test "--store: both tokens in the SecureString, never on stdout or stderr" {
	run -0 --separate-stderr gh-regtoken --scope acme/web --store /runner-pool/acme/web/regtoken
	reg=$(issued register)
	rem=$(issued remove)
	[ -n "$reg" ] && [ -n "$rem" ]
	[ "${#lines[@]}" -eq 1 ]
	jq -e '.parameter == "/runner-pool/acme/web/regtoken" and .stored == true
		and .scope == "acme/web" and (.expires_at | length > 0) and (has("token") | not)' <<<"$output"
	[[ $output != *"$reg"* && $stderr != *"$reg"* ]]
	[[ $output != *"$rem"* && $stderr != *"$rem"* ]]
	[[ $output != *"$GITHUB_TOKEN"* && $stderr != *"$GITHUB_TOKEN"* ]]
	run -0 pool-param get --decrypt /runner-pool/acme/web/regtoken
	jq -e '.type == "SecureString"' <<<"$output"
	jq -r .value <<<"$output" | jq -e --arg r "$reg" --arg m "$rem" --arg u "$GITHUB_SERVER_URL/acme/web" \
		'.token == $r and .remove_token == $m and .scope == "acme/web" and .url == $u
		and (.fetched_at | test("^20[0-9-]+T[0-9:]+Z$")) and (.expires_at | length > 0)'
	cloud_calls | jq -s -e 'map(select(.service == "ssm" and .mutating))
		| length == 1 and .[0].action == "PutParameter" and .[0].params.Type == "SecureString"'
}

@test "--if-older-than: a young token is left alone, an old or expiring one replaced" {
	P=/runner-pool/acme/web/regtoken
	run -0 gh-regtoken --scope acme/web --store "$P" --if-older-than 30
	jq -e '.stored == true' <<<"$output"
	cloud_ctl DELETE /calls >/dev/null
	run -0 --separate-stderr gh-regtoken --scope acme/web --store "$P" --if-older-than 30
	jq -e --arg p "$P" '.parameter == $p and .stored == false and .age_min == 0' <<<"$output"
	[ -z "$(gh_calls)" ]
	no_mutation
	# fetched 45 minutes ago: older than 30
	old=$(date -u -d '-45 min' +%Y-%m-%dT%H:%M:%SZ)
	exp=$(date -u -d '+15 min' +%Y-%m-%dT%H:%M:%SZ)
	printf '{"token":"X","remove_token":"Y","expires_at":"%s","scope":"acme/web","fetched_at":"%s"}' \
		"$exp" "$old" | pool-param put --secure "$P" >/dev/null
	run -0 gh-regtoken --scope acme/web --store "$P" --if-older-than 60
	jq -e '.stored == false and .age_min == 45' <<<"$output"
	run -0 gh-regtoken --scope acme/web --store "$P" --if-older-than 30
	jq -e '.stored == true' <<<"$output"
	# young, but 5 minutes from expiry
	cloud_ctl POST /github/settings '{"registration_token_ttl_s":300}' >/dev/null
	run -0 gh-regtoken --scope acme/web --store "$P"
	run -0 gh-regtoken --scope acme/web --store "$P" --if-older-than 30
	jq -e '.stored == true' <<<"$output"
	# another scope's token is replaced
	cloud_ctl POST /github/settings '{"registration_token_ttl_s":3600}' >/dev/null
	run -0 gh-regtoken --scope acme --store "$P" --if-older-than 30
	jq -e '.stored == true and .scope == "acme"' <<<"$output"
}

@test "bad input: one clear line, exit 100, nothing sent" {
	cloud_ctl DELETE /calls >/dev/null
	run -100 --separate-stderr gh-regtoken --scope 'acme/web/x'
	[[ ${stderr_lines[0]} == "gh-regtoken: --scope: scope 'acme/web/x' is not owner/repo or an organization name"* ]]
	run -100 --separate-stderr gh-regtoken --scope '-acme'
	[[ ${stderr_lines[0]} == *"is not owner/repo or an organization name"* ]]
	run -100 --separate-stderr gh-regtoken
	[[ ${stderr_lines[0]} == "gh-regtoken: no scope: give --scope owner/repo or org"* ]]
	unset GITHUB_TOKEN
	run -100 --separate-stderr gh-regtoken --scope acme/web
	[[ ${stderr_lines[0]} == "gh-regtoken: no GitHub credentials: "*"GITHUB_TOKEN"* ]]
	# a token in argv is refused and never echoed
	for args in "--token=ghp_classicAll0000000000000000000000" "--token ghp_classicAll0000000000000000000000" \
		"--scope acme/web ghp_classicAll0000000000000000000000"; do
		run -100 --separate-stderr gh-regtoken $args
		[[ ${stderr_lines[0]} == "gh-regtoken: "*"tokens are read from \$GITHUB_TOKEN or --token-file"* ]]
		[[ $stderr != *ghp_classicAll* ]]
		[ -z "$output" ]
	done
	run -100 --separate-stderr gh-regtoken --scope acme/web --token-file "$BATS_TEST_TMPDIR/none"
	[[ ${stderr_lines[0]} == "gh-regtoken: token file '$BATS_TEST_TMPDIR/none': No such file or directory"* ]]
	: >"$BATS_TEST_TMPDIR/empty"
	run -100 --separate-stderr gh-regtoken --scope acme/web --token-file "$BATS_TEST_TMPDIR/empty"
	[[ ${stderr_lines[0]} == *"empty token"* ]]
	export GITHUB_TOKEN=ghp_classicAll0000000000000000000000
	run -100 --separate-stderr gh-regtoken --scope acme/web --if-older-than 30
	[[ ${stderr_lines[0]} == "gh-regtoken: --if-older-than needs --store"* ]]
	run -100 --separate-stderr gh-regtoken --scope acme/web --store /p --if-older-than 0
	[[ ${stderr_lines[0]} == "gh-regtoken: --if-older-than: '0' is out of range 1..1440"* ]]
	run -100 --separate-stderr gh-regtoken --scope acme/web --store 'no slash'
	[[ ${stderr_lines[0]} == "gh-regtoken: --store: "* ]]
	GITHUB_API_URL=ftp://127.0.0.1/api/v3 run -100 --separate-stderr gh-regtoken --scope acme/web
	[[ ${stderr_lines[0]} == "gh-regtoken: GITHUB_API_URL 'ftp://127.0.0.1/api/v3' is not an http(s) URL"* ]]
	[ -z "$(cloud_calls)" ]
}

@test "GHES: a trailing slash on GITHUB_API_URL, the server URL in the runner URL" {
	GITHUB_API_URL=$GITHUB_API_URL/ GITHUB_SERVER_URL=$GITHUB_SERVER_URL/ \
		run -0 --separate-stderr gh-regtoken --scope acme/web
	jq -e --arg u "$CLOUD_URL/acme/web" '.url == $u' <<<"$output"
	gh_calls | jq -e '.path == "/api/v3/repos/acme/web/actions/runners/registration-token"'
}

@test "GHES: the server URL follows an .../api/v3 API URL; an API URL without /api/v3 gets a hint" {
	run -0 --separate-stderr env -u GITHUB_SERVER_URL gh-regtoken --scope acme/web
	[ "$(jq -r .url <<<"$output")" = "$CLOUD_URL/acme/web" ]
	run -100 --separate-stderr env GITHUB_API_URL="$CLOUD_URL/api" gh-regtoken --scope acme/web
	[[ $stderr == *"GITHUB_API_URL $CLOUD_URL/api: GitHub Enterprise Server's API is https://HOST/api/v3" ]]
}

@test "scopes GitHub has no runners for are refused before any call" {
	for s in acme/web.git enterprises/acme; do
		run -100 --separate-stderr gh-regtoken --scope "$s"
		[[ $stderr == "gh-regtoken: --scope: scope '$s': "* ]]
	done
	[ -z "$(gh_calls)" ]
}

@test "a bad --region is refused without --store too" {
	run -100 --separate-stderr gh-regtoken --scope acme/web --region mars-1
	[[ $stderr == "gh-regtoken: --region: 'mars-1' is not an AWS region"* ]]
	[ -z "$(gh_calls)" ]
}

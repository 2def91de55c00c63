#!/usr/bin/env bats
# pool-param: SSM String and SecureString, values only through stdin/stdout.

load helpers
bats_require_minimum_version 1.5.0

load cloud-file
setup() {
	cloud_reset
}


@test "pool-param puts and gets a SecureString; the value never reaches argv or the cloud's log" {
	secret=s3cr3t-$RANDOM$RANDOM
	run -0 --separate-stderr bash -c "printf '%s\n' '$secret' | pool-param put --secure /runner-pool/acme/web/regtoken"
	jq -e '.version == 1' <<<"$output"
	[[ "$output$stderr" != *"$secret"* ]]
	run -0 pool-param get /runner-pool/acme/web/regtoken
	jq -e '.type == "SecureString" and .value == null' <<<"$output"
	run -0 pool-param get --decrypt /runner-pool/acme/web/regtoken
	[ "$(jq -r .value <<<"$output")" = "$secret" ]
	! cloud_calls | grep -q "$secret"
}

@test "pool-param overwrites, or refuses with --no-overwrite (1)" {
	echo one | pool-param put /runner-pool/p/config >/dev/null
	run -0 bash -c 'echo two | pool-param put /runner-pool/p/config'
	jq -e '.version == 2' <<<"$output"
	run -1 --separate-stderr bash -c 'echo three | pool-param put --no-overwrite /runner-pool/p/config'
	[[ "$stderr" == *"ParameterAlreadyExists"* ]]
	run -0 pool-param get /runner-pool/p/config
	jq -e '.value == "two" and .type == "String"' <<<"$output"
}

@test "pool-param get and delete of a missing parameter say no (1)" {
	run -1 --separate-stderr pool-param get /runner-pool/none
	[[ "$stderr" == *"ParameterNotFound"* ]]
	run -1 --separate-stderr pool-param delete /runner-pool/none
	echo x | pool-param put /runner-pool/some >/dev/null
	run -0 pool-param delete /runner-pool/some
	run -1 pool-param get /runner-pool/some
}

@test "pool-param retries SSM throttling" {
	echo x | pool-param put /runner-pool/t >/dev/null
	cloud_fault '{"service":"ssm","action":"GetParameter","kind":"throttle","count":2}'
	run -0 --separate-stderr pool-param get /runner-pool/t
	[ "$(cloud_calls | jq -s 'map(select(.action == "GetParameter")) | length')" -eq 3 ]
}

@test "pool-param rejects bad input before any call" {
	run -100 --separate-stderr pool-param get not-a-path
	[[ "$stderr" == *"'not-a-path' is not an SSM parameter name"* ]]
	run -100 --separate-stderr pool-param fetch /a/b
	run -100 --separate-stderr pool-param put /a/b </dev/null
	[[ "$stderr" == *"stdin: empty value"* ]]
	run -100 --separate-stderr pool-param get --secure /a/b
	run -100 --separate-stderr bash -c 'head -c 4097 /dev/zero | tr "\0" a | pool-param put /a/b'
	[ "$stderr" = "pool-param: stdin: value longer than 4096 bytes, SSM's limit for a standard parameter" ]
	[ "$(cloud_calls | wc -l)" -eq 0 ]
	# 4096 bytes are a standard parameter SSM accepts
	run -0 --separate-stderr bash -c 'head -c 4096 /dev/zero | tr "\0" a | pool-param put /a/b'
}

@test "pool-param refuses a value that is not UTF-8, naming the offset, not the text" {
	for v in 'ab\377cd' 'ab\300\257' 'x\355\240\200' 'abc\342\202'; do
		run -100 --separate-stderr bash -c "printf '$v' | pool-param put /runner-pool/utf8"
		[[ "$stderr" == "pool-param: stdin: the value: not UTF-8 at byte offset "[0-9]* ]]
	done
	[ "$(cloud_calls | wc -l)" -eq 0 ]
	run -0 --separate-stderr bash -c "printf 'caf\303\251 \360\237\232\200' | pool-param put /runner-pool/utf8"
}

@test "pool-param refuses a value with a NUL byte rather than cutting it" {
	run -100 --separate-stderr bash -c "printf 'ab\0cd' | pool-param put /runner-pool/nul"
	[[ "$stderr" == *"NUL byte"* ]]
	[ "$(cloud_calls | wc -l)" -eq 0 ]
}

@test "pool-param: an error reply that is not AWS's keeps its text in the message" {
	cloud_fault '{"service":"ssm","action":"GetParameter","kind":"5xx","status":403,"body":"<html><body>\n<h1>403 Forbidden</h1>  by the corporate proxy</body></html>"}'
	run -100 --separate-stderr pool-param get /runner-pool/x
	[[ "$stderr" == *"HTTP403: <html><body> <h1>403 Forbidden</h1> by the corporate proxy</body></html>" ]]
}

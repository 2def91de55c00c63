# tests/cloud-file.bash: one local cloud for a whole test file, reset
# before each test (a start costs about 1.5 s of CPU, more than most
# tests).  `load cloud-file` after `load helpers`; each test's setup()
# calls cloud_reset first.
setup_file() {
	cloud_start "$BATS_FILE_TMPDIR/cloud"
}
teardown_file() {
	cloud_stop
}

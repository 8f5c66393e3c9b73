# The ssh target's tests (included from tests/system/CMakeLists.txt).
set(kt_ssh_target_tests ${PROJECT_SOURCE_DIR}/tests/targets)

# The test host itself: a dropbear VM, strict host keys, kexec under TCG.
# One VM at a time per lock: two TCG VMs at once on 2 cores slow every other test.
kerntune_test(ssh_fixture_tests LABEL ssh TIMEOUT 900 LOCK ssh_vm
  SOURCES ssh_fixture_test.cpp
  DEPS targets)

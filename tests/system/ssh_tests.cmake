# The ssh target's tests (included from tests/system/CMakeLists.txt).
set(kt_ssh_target_tests ${PROJECT_SOURCE_DIR}/tests/targets)

# The test host itself: a dropbear VM, strict host keys, kexec under TCG.
# One VM at a time per lock: two TCG VMs at once on 2 cores slow every other test.
kerntune_test(ssh_fixture_tests LABEL ssh TIMEOUT 900 LOCK ssh_vm
  SOURCES ssh_fixture_test.cpp
  DEPS targets)

# Unit: shell quoting and the remote command strings through real local shells
# (dash, bash, busybox sh), the real agent started by agent_command, recipe keys.
kerntune_test(ssh_unit_tests LABEL unit TIMEOUT 120
  SOURCES ${kt_ssh_target_tests}/ssh_quote_test.cpp
  DEPS targets)

# System: the ssh target against dropbear VMs: kexec, sysctls, a workload,
# recovery of a host that does not come back, a host lost mid-trial.
# ~6-8 minutes on a loaded 2-core TCG host.
kerntune_test(ssh_system_tests LABEL ssh TIMEOUT 1500 LOCK ssh_vm
  SOURCES ssh_system_test.cpp
  DEPS targets workloads)

# System: a campaign through the real CLI on a dropbear VM (3 trials, kexec per boot-parameter change).
kerntune_test(ssh_campaign_tests LABEL ssh TIMEOUT 1500 LOCK ssh_vm
  SOURCES ssh_campaign_test.cpp
  DEPS targets nlohmann_json::nlohmann_json)

# The guest session's contract against the ssh target on one dropbear VM
# (tests/targets/guest_session_contract_test.cpp; the other backends are in CMakeLists.txt).
kerntune_test(guest_session_ssh_tests LABEL ssh TIMEOUT 1500 LOCK ssh_vm
  SOURCES ${kt_ssh_target_tests}/guest_session_contract_test.cpp
  DEPS targets workloads)
target_compile_definitions(guest_session_ssh_tests PRIVATE KT_CONTRACT_SSH=1)

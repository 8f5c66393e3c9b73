# The ssh target's tests (included from tests/system/CMakeLists.txt).

# The test host itself: a dropbear VM, strict host keys, kexec under TCG.
# One VM at a time per lock: two TCG VMs at once on 2 cores slow every other test.
kerntune_test(ssh_fixture_tests LABEL ssh TIMEOUT 900 LOCK ssh_vm
  SOURCES ssh_fixture_test.cpp
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
# (The guest session's contract on the dropbear VM and the ssh unit tests:
# tests/targets/CMakeLists.txt.)

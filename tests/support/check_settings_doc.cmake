# Fails when docs/settings.md differs from `ssrl-workbench settings --format markdown`.
execute_process(COMMAND ${EXE} settings --format markdown OUTPUT_VARIABLE generated RESULT_VARIABLE rc)
if(NOT rc EQUAL 0)
  message(FATAL_ERROR "ssrl-workbench settings --format markdown failed (${rc})")
endif()
file(READ ${DOC} committed)
if(NOT generated STREQUAL committed)
  message(FATAL_ERROR "${DOC} is out of date: regenerate it with\n  ssrl-workbench settings --format markdown > docs/settings.md")
endif()

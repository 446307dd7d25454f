# cmake/write_version.cmake checked on its own: inside the git checkout it
# captures the commit (as `git rev-parse` names it); in a directory outside
# any checkout it leaves the commit empty, which `--version` turns into
# "built outside a git checkout".
#
#   cmake -DPROJECT_SOURCE_DIR=... -DWORK=... -P version_test.cmake
set(script ${PROJECT_SOURCE_DIR}/cmake/write_version.cmake)
set(template ${PROJECT_SOURCE_DIR}/src/cli/version.cc.in)
file(REMOVE_RECURSE ${WORK})
file(MAKE_DIRECTORY ${WORK}/outside)

execute_process(COMMAND ${CMAKE_COMMAND} -DSOURCE_DIR=${PROJECT_SOURCE_DIR} -DVERSION=9.8.7 -DTEMPLATE=${template}
                        -DOUTPUT=${WORK}/inside.cc -P ${script} RESULT_VARIABLE rc)
if(NOT rc EQUAL 0)
  message(FATAL_ERROR "write_version.cmake failed inside the checkout")
endif()
file(READ ${WORK}/inside.cc inside)
find_package(Git REQUIRED)
execute_process(COMMAND ${GIT_EXECUTABLE} -C ${PROJECT_SOURCE_DIR} rev-parse --short=12 HEAD
                OUTPUT_VARIABLE head OUTPUT_STRIP_TRAILING_WHITESPACE)
if(NOT inside MATCHES "return \"9\\.8\\.7\";" OR NOT inside MATCHES "return \"${head}(-dirty)?\";")
  message(FATAL_ERROR "inside the checkout, expected version 9.8.7 and commit ${head}:\n${inside}")
endif()

# The work directory may itself lie in the checkout (a build tree): git must
# not look above it.
execute_process(COMMAND ${CMAKE_COMMAND} -E env GIT_CEILING_DIRECTORIES=${WORK}
                        ${CMAKE_COMMAND} -DSOURCE_DIR=${WORK}/outside -DVERSION=9.8.7 -DTEMPLATE=${template}
                        -DOUTPUT=${WORK}/outside.cc -P ${script}
                WORKING_DIRECTORY ${WORK}/outside RESULT_VARIABLE rc)
file(READ ${WORK}/outside.cc outside)
if(NOT rc EQUAL 0 OR NOT outside MATCHES "GitCommit\\(\\) { return \"\"; }")
  message(FATAL_ERROR "outside a checkout, expected an empty commit:\n${outside}")
endif()
file(REMOVE_RECURSE ${WORK})

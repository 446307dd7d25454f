# Writes the version source of the `lambdaflow` binary (run at every build by
# the lf_version target, src/cli/CMakeLists.txt): the project version and the
# git commit of the source tree, "-dirty" when it has uncommitted changes.
# A build outside a git checkout says so. The file is rewritten only when
# its text changes, so an unchanged commit relinks nothing.
#
#   cmake -DSOURCE_DIR=... -DVERSION=... -DTEMPLATE=... -DOUTPUT=... -P write_version.cmake
set(LF_GIT_COMMIT "")
find_package(Git QUIET)
if(GIT_FOUND)
  execute_process(COMMAND ${GIT_EXECUTABLE} -C ${SOURCE_DIR} rev-parse --short=12 HEAD
                  OUTPUT_VARIABLE commit RESULT_VARIABLE rc ERROR_QUIET OUTPUT_STRIP_TRAILING_WHITESPACE)
  if(rc EQUAL 0 AND commit)
    set(LF_GIT_COMMIT ${commit})
    execute_process(COMMAND ${GIT_EXECUTABLE} -C ${SOURCE_DIR} status --porcelain --untracked-files=no
                    OUTPUT_VARIABLE changes RESULT_VARIABLE rc ERROR_QUIET OUTPUT_STRIP_TRAILING_WHITESPACE)
    if(rc EQUAL 0 AND changes)
      string(APPEND LF_GIT_COMMIT "-dirty")
    endif()
  endif()
endif()
set(LF_VERSION ${VERSION})
configure_file(${TEMPLATE} ${OUTPUT} @ONLY)

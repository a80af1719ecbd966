# Install swiommu into a temporary prefix, then build tests/consumer twice against it, once through
# pkg-config and once through find_package(swiommu), and run both programs.
file(REMOVE_RECURSE "${WORK_DIR}")
set(PREFIX "${WORK_DIR}/prefix")

function(run)
    execute_process(COMMAND ${ARGN} RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE err)
    if(NOT rc EQUAL 0)
        message(FATAL_ERROR "failed (${rc}): ${ARGN}\n${out}\n${err}")
    endif()
    message(STATUS "${out}")
endfunction()

run("${CMAKE_COMMAND}" --install "${BINARY_DIR}" --prefix "${PREFIX}")

# pkg-config consumer: a plain compiler line.
set(ENV{PKG_CONFIG_PATH} "${PREFIX}/lib/pkgconfig")
execute_process(COMMAND pkg-config --cflags --libs swiommu OUTPUT_VARIABLE flags
                OUTPUT_STRIP_TRAILING_WHITESPACE RESULT_VARIABLE rc)
if(NOT rc EQUAL 0)
    message(FATAL_ERROR "pkg-config does not find swiommu in ${PREFIX}")
endif()
separate_arguments(flags UNIX_COMMAND "${flags}")
run(cc -std=gnu11 -Wall -Wextra -Werror "${SOURCE_DIR}/tests/consumer/consumer.c" -o "${WORK_DIR}/consumer-pkgconfig" ${flags})
run("${WORK_DIR}/consumer-pkgconfig")

# find_package consumer.
run("${CMAKE_COMMAND}" -S "${SOURCE_DIR}/tests/consumer" -B "${WORK_DIR}/consumer-build" -G Ninja
    "-DCMAKE_PREFIX_PATH=${PREFIX}")
run("${CMAKE_COMMAND}" --build "${WORK_DIR}/consumer-build")
run("${WORK_DIR}/consumer-build/consumer")
message(STATUS "both consumers built and ran against ${PREFIX}")

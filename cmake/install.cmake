# `cmake --install build` puts the hashmatch binary, the static libraries,
# the headers and a package config in place, so other C++ programs can
# find_package(hashmatch) and link hm::engine.
include(CMakePackageConfigHelpers)
set_target_properties(hm_engine PROPERTIES EXPORT_NAME engine)
set_target_properties(hm_kernels PROPERTIES EXPORT_NAME kernels)
set(HM_CMAKE_DIR ${CMAKE_INSTALL_LIBDIR}/cmake/hashmatch)
set(HM_INSTALL_TARGETS hashmatch hm_engine hm_kernels)
if(HM_HAS_CUDA)
  set_target_properties(hm_cuda PROPERTIES EXPORT_NAME cuda)
  list(APPEND HM_INSTALL_TARGETS hm_cuda)
endif()
install(TARGETS ${HM_INSTALL_TARGETS} EXPORT hashmatch-targets
  RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR}
  ARCHIVE DESTINATION ${CMAKE_INSTALL_LIBDIR})
install(DIRECTORY kernels/ engine/ DESTINATION ${CMAKE_INSTALL_INCLUDEDIR}/hashmatch
  FILES_MATCHING PATTERN "*.hpp")  # the public headers are CUDA-free
install(EXPORT hashmatch-targets NAMESPACE hm:: DESTINATION ${HM_CMAKE_DIR})
configure_package_config_file(cmake/hashmatch-config.cmake.in
  ${CMAKE_CURRENT_BINARY_DIR}/hashmatch-config.cmake INSTALL_DESTINATION ${HM_CMAKE_DIR})
write_basic_package_version_file(${CMAKE_CURRENT_BINARY_DIR}/hashmatch-config-version.cmake
  COMPATIBILITY SameMinorVersion)
install(FILES ${CMAKE_CURRENT_BINARY_DIR}/hashmatch-config.cmake
              ${CMAKE_CURRENT_BINARY_DIR}/hashmatch-config-version.cmake
        DESTINATION ${HM_CMAKE_DIR})

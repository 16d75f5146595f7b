# Installation and the Debian package.
#   cmake --install build/release --prefix /usr   binary, resources, desktop entry, icons,
#                                                 AppStream metadata, man page, licence
#   (cd build/release && cpack)                   ssrl-workbench_<version>_amd64.deb
# A headless build (-DWB_BUILD_GUI=OFF) packages as ssrl-workbench-headless:
# no Qt, no VTK, no desktop entry.
include(GNUInstallDirs)

set(WB_APP_ID io.github.ssrl_workbench.SsrlWorkbench)
set(WB_PACKAGE_NAME ssrl-workbench)
if(NOT WB_BUILD_GUI)
  set(WB_PACKAGE_NAME ssrl-workbench-headless)
endif()
set(WB_DOC_DIR ${CMAKE_INSTALL_DATAROOTDIR}/doc/${WB_PACKAGE_NAME})

# Resources: found by the program at <prefix>/share/ssrl-workbench/resources
# (core/src/config/resources.cpp).
install(DIRECTORY ${PROJECT_SOURCE_DIR}/resources/presets ${PROJECT_SOURCE_DIR}/resources/sweeps
                  ${PROJECT_SOURCE_DIR}/resources/configs ${PROJECT_SOURCE_DIR}/resources/python
        DESTINATION ${CMAKE_INSTALL_DATAROOTDIR}/ssrl-workbench/resources
        FILE_PERMISSIONS OWNER_READ OWNER_WRITE GROUP_READ WORLD_READ
        PATTERN "__pycache__" EXCLUDE)
install(FILES ${PROJECT_SOURCE_DIR}/resources/README.md DESTINATION ${CMAKE_INSTALL_DATAROOTDIR}/ssrl-workbench/resources)

if(WB_BUILD_GUI)
  set(WB_LINUX ${PROJECT_SOURCE_DIR}/packaging/linux)
  install(FILES ${WB_LINUX}/${WB_APP_ID}.desktop DESTINATION ${CMAKE_INSTALL_DATAROOTDIR}/applications)
  install(FILES ${WB_LINUX}/${WB_APP_ID}.metainfo.xml DESTINATION ${CMAKE_INSTALL_DATAROOTDIR}/metainfo)
  install(FILES ${WB_LINUX}/${WB_APP_ID}.svg DESTINATION ${CMAKE_INSTALL_DATAROOTDIR}/icons/hicolor/scalable/apps)
  foreach(size 16 32 48 64 128 256)
    install(FILES ${WB_LINUX}/icons/${size}.png DESTINATION ${CMAKE_INSTALL_DATAROOTDIR}/icons/hicolor/${size}x${size}/apps
            RENAME ${WB_APP_ID}.png)
  endforeach()
endif()

# Debian wants changelog and man page gzip'ed without a time stamp (-n).
find_program(WB_GZIP gzip REQUIRED)
add_custom_command(OUTPUT ${CMAKE_BINARY_DIR}/changelog.gz
                   COMMAND ${WB_GZIP} -9nc ${PROJECT_SOURCE_DIR}/packaging/debian/changelog > ${CMAKE_BINARY_DIR}/changelog.gz
                   DEPENDS ${PROJECT_SOURCE_DIR}/packaging/debian/changelog VERBATIM)
add_custom_target(wb_changelog ALL DEPENDS ${CMAKE_BINARY_DIR}/changelog.gz)
install(FILES ${CMAKE_BINARY_DIR}/changelog.gz ${PROJECT_SOURCE_DIR}/packaging/debian/copyright DESTINATION ${WB_DOC_DIR})

# The man page is the CLI's own --help and --version, through help2man.
find_program(WB_HELP2MAN help2man)
if(WB_HELP2MAN)
  add_custom_command(
    OUTPUT ${CMAKE_BINARY_DIR}/ssrl-workbench.1.gz
    COMMAND ${CMAKE_COMMAND} -E env --unset=XDG_DATA_HOME HOME=~ OMP_WAIT_POLICY=passive
            ${WB_HELP2MAN} --no-info --no-discard-stderr --section 1 --source "SSRL Workbench"
            --name "train self-supervised methods and watch them maximise mutual information"
            --include ${PROJECT_SOURCE_DIR}/packaging/linux/ssrl-workbench.h2m
            --output ${CMAKE_BINARY_DIR}/ssrl-workbench.1 $<TARGET_FILE:ssrl-workbench>
    COMMAND ${WB_GZIP} -9nf ${CMAKE_BINARY_DIR}/ssrl-workbench.1
    DEPENDS ssrl-workbench ${PROJECT_SOURCE_DIR}/packaging/linux/ssrl-workbench.h2m VERBATIM)
  add_custom_target(wb_manpage ALL DEPENDS ${CMAKE_BINARY_DIR}/ssrl-workbench.1.gz)
  install(FILES ${CMAKE_BINARY_DIR}/ssrl-workbench.1.gz DESTINATION ${CMAKE_INSTALL_MANDIR}/man1)
else()
  message(STATUS "help2man not found: no man page (apt-get install help2man)")
endif()

set(CPACK_GENERATOR DEB)
set(CPACK_PACKAGE_NAME ${WB_PACKAGE_NAME})
set(CPACK_PACKAGE_VERSION ${PROJECT_VERSION})
set(CPACK_PACKAGE_CONTACT "SSRL Workbench maintainers <ssrl-workbench@users.noreply.github.com>")
set(CPACK_PACKAGE_DESCRIPTION_SUMMARY "self-supervised learning as mutual-information maximisation")
# CPack puts the summary in front as the synopsis line.
set(CPACK_DEBIAN_PACKAGE_DESCRIPTION
    "SSRL Workbench trains self-supervised representation-learning methods\n"
    "(SDMI, JMI, SimSiam, BYOL, MoCo-v3, SimCLR, Barlow Twins, VICReg,\n"
    "Taylor-DV) on a controlled Gaussian-mixture experiment and on image data\n"
    "sets, tracks mutual-information lower bounds, collapse indicators and the\n"
    "embedding geometry every epoch, keeps every run in SQLite and exports\n"
    "trained encoders as PyTorch state_dicts.")
if(NOT WB_BUILD_GUI)
  string(APPEND CPACK_DEBIAN_PACKAGE_DESCRIPTION "\n.\nThis is the command-line build for servers, without the desktop application.")
  set(CPACK_DEBIAN_PACKAGE_CONFLICTS ssrl-workbench)
else()
  set(CPACK_DEBIAN_PACKAGE_CONFLICTS ssrl-workbench-headless)
endif()
set(CPACK_DEBIAN_PACKAGE_SECTION science)
set(CPACK_DEBIAN_PACKAGE_PRIORITY optional)
set(CPACK_DEBIAN_PACKAGE_HOMEPAGE "https://github.com/ssrl-workbench/ssrl-workbench")
set(CPACK_DEBIAN_FILE_NAME DEB-DEFAULT)  # <name>_<version>_<arch>.deb
set(CPACK_DEBIAN_PACKAGE_SHLIBDEPS ON)   # Depends from the libraries the binary links
set(CPACK_DEBIAN_PACKAGE_CONTROL_STRICT_PERMISSION ON)
set(CPACK_STRIP_FILES ON)
set(CPACK_PACKAGING_INSTALL_PREFIX /usr)
# Runtime libraries loaded without being linked: OpenBLAS with OpenMP (see
# install-deps.sh), and the Fashion-MNIST files the default presets read.
set(CPACK_DEBIAN_PACKAGE_RECOMMENDS "libopenblas0-openmp, dataset-fashion-mnist")
set(CPACK_DEBIAN_PACKAGE_SUGGESTS "python3-torch")
include(CPack)

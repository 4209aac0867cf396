# `make install` and `make package`: what an installed comeback needs, and its Debian package.
#   <prefix>/bin/comeback
#   <prefix>/include/comeback/strategy.h           the plug-in ABI (plug-ins build against it)
#   <prefix>/share/doc/comeback/                   README.md, BENCHMARKS.md, docs/, examples/
#   <prefix>/lib/systemd/system/comeback@.service  the robot as a service (docs/run.md)
#   <prefix>/lib/sysusers.d/comeback.conf          its user
# The program reads nothing from the source tree at run time (the demo's strategy is built in;
# `run` reads the bot file and the files it names), so an install can go anywhere.
include(GNUInstallDirs)

install(TARGETS comeback_cli RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR})
install(FILES ${CMAKE_SOURCE_DIR}/include/comeback/strategy.h
        DESTINATION ${CMAKE_INSTALL_INCLUDEDIR}/comeback)
install(FILES ${CMAKE_SOURCE_DIR}/README.md ${CMAKE_SOURCE_DIR}/BENCHMARKS.md
        DESTINATION ${CMAKE_INSTALL_DOCDIR})
install(DIRECTORY ${CMAKE_SOURCE_DIR}/docs/ DESTINATION ${CMAKE_INSTALL_DOCDIR}/docs)
# examples/plugins/CMakeLists.txt builds the plug-ins inside this tree; the installed copy
# builds with its own Makefile against <prefix>/include.
install(DIRECTORY ${CMAKE_SOURCE_DIR}/examples/ DESTINATION ${CMAKE_INSTALL_DOCDIR}/examples
        PATTERN CMakeLists.txt EXCLUDE)
install(FILES ${CMAKE_SOURCE_DIR}/packaging/mybot.ini
        DESTINATION ${CMAKE_INSTALL_DOCDIR}/examples/service)
install(FILES ${CMAKE_SOURCE_DIR}/packaging/comeback.sysusers
        DESTINATION lib/sysusers.d RENAME comeback.conf)
# The unit names the program by its installed path, so it is written at install time, when
# the prefix is known (`cmake --install --prefix`, or /usr inside `make package`).
install(CODE "
  set(BINDIR \"\${CMAKE_INSTALL_PREFIX}/${CMAKE_INSTALL_BINDIR}\")
  set(DOCDIR \"\${CMAKE_INSTALL_PREFIX}/${CMAKE_INSTALL_DOCDIR}\")
  configure_file(\"${CMAKE_SOURCE_DIR}/packaging/comeback@.service.in\"
                 \"${CMAKE_BINARY_DIR}/packaging/comeback@.service\" @ONLY)
  file(INSTALL DESTINATION \"\${CMAKE_INSTALL_PREFIX}/lib/systemd/system\"
       TYPE FILE FILES \"${CMAKE_BINARY_DIR}/packaging/comeback@.service\")
")

# The Debian package (`make package`, Debian 12): /usr, the runtime libraries as dependencies.
set(CPACK_GENERATOR DEB)
set(CPACK_PACKAGE_NAME comeback)
set(CPACK_PACKAGE_VERSION ${PROJECT_VERSION})
set(CPACK_PACKAGE_VENDOR "Comeback")
set(CPACK_PACKAGE_CONTACT "Comeback developers <comeback@localhost>")
set(CPACK_PACKAGE_DESCRIPTION_SUMMARY
    "crypto trading robot: backtests, optimizer, exchange simulator, paper and live trading")
set(CPACK_DEBIAN_PACKAGE_DESCRIPTION
    "Comeback backtests strategies on real exchange candles with every cost counted,\n\
optimizes them honestly, and trades them in paper or live mode. Includes a Binance spot\n\
exchange simulator and a systemd unit, comeback@.service, that runs one robot per bot file.")
set(CPACK_PACKAGING_INSTALL_PREFIX /usr)
set(CPACK_DEBIAN_FILE_NAME DEB-DEFAULT)
set(CPACK_DEBIAN_PACKAGE_SECTION misc)
set(CPACK_DEBIAN_PACKAGE_PRIORITY optional)
# dpkg-shlibdeps reads the libraries the binary links; without it, the same list written out
# (what it gives on Debian 12).
find_program(CB_DPKG_SHLIBDEPS dpkg-shlibdeps)
if(CB_DPKG_SHLIBDEPS)
  set(CPACK_DEBIAN_PACKAGE_SHLIBDEPS ON)
else()
  set(CPACK_DEBIAN_PACKAGE_DEPENDS "libc6 (>= 2.34), libcurl4 (>= 7.16.2), libinih1 (>= 40), \
libjansson4 (>= 2.14), libmicrohttpd12 (>= 0.9.50), libsqlite3-0 (>= 3.5.9), libssl3 (>= 3.0.0), \
libwebsockets17 (>= 3.2.0)")
endif()
set(CPACK_DEBIAN_PACKAGE_RECOMMENDS "systemd")
set(CPACK_DEBIAN_PACKAGE_CONTROL_EXTRA
    "${CMAKE_SOURCE_DIR}/packaging/debian/postinst;${CMAKE_SOURCE_DIR}/packaging/debian/postrm")
set(CPACK_DEBIAN_PACKAGE_CONTROL_STRICT_PERMISSION ON)
include(CPack)

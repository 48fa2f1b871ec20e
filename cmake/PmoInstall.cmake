# PmoInstall.cmake: what `cmake --install` and the Debian package put where.
#
#   <prefix>/bin/                 the services and pmoctl
#   <prefix>/share/pmo/           www/ (dashboard), openapi.json, mappings/,
#                                 redis/ (configuration, ACL template, make-users.sh)
#   <prefix>/lib/systemd/system/  one unit per service
#   <sysconf>/pmo/<svc>.env       the units' settings (sysconf: /etc for the
#                                 prefix /usr, else <prefix>/etc)
#   <prefix>/share/doc/pmo/       README.md, ARCHITECTURE.md, docs/
#
# The units and env files name the binaries and files by their installed
# paths: they are written at install time (so the package, built with the
# prefix /usr, says /usr/bin and /etc whatever the build was configured with).
include(GNUInstallDirs)

install(TARGETS pmo-registry pmo-allocator pmo-riskmon pmo-notifier pmo-planner pmo-gateway
                pmo-hub pmo-uplink pmoctl RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR})
install(DIRECTORY ${PROJECT_SOURCE_DIR}/services/gateway/www/
        DESTINATION ${CMAKE_INSTALL_DATADIR}/pmo/www)
install(FILES ${PROJECT_SOURCE_DIR}/services/gateway/openapi.json
        DESTINATION ${CMAKE_INSTALL_DATADIR}/pmo)
install(FILES ${PROJECT_SOURCE_DIR}/deploy/data/gmpp-mapping.json
              ${PROJECT_SOURCE_DIR}/deploy/data/demo-reports-mapping.json
        DESTINATION ${CMAKE_INSTALL_DATADIR}/pmo/mappings)
install(FILES ${PROJECT_SOURCE_DIR}/deploy/redis/redis.conf
              ${PROJECT_SOURCE_DIR}/deploy/redis/redis-ha.conf
              ${PROJECT_SOURCE_DIR}/deploy/redis/sentinel.conf
              ${PROJECT_SOURCE_DIR}/deploy/redis/users.acl
              ${PROJECT_SOURCE_DIR}/deploy/redis/README.md
        DESTINATION ${CMAKE_INSTALL_DATADIR}/pmo/redis)
install(PROGRAMS ${PROJECT_SOURCE_DIR}/deploy/redis/make-users.sh
        DESTINATION ${CMAKE_INSTALL_DATADIR}/pmo/redis)
install(FILES ${PROJECT_SOURCE_DIR}/README.md ${PROJECT_SOURCE_DIR}/ARCHITECTURE.md
        DESTINATION ${CMAKE_INSTALL_DOCDIR})
if(EXISTS ${PROJECT_SOURCE_DIR}/docs)
  install(DIRECTORY ${PROJECT_SOURCE_DIR}/docs/ DESTINATION ${CMAKE_INSTALL_DOCDIR}/docs)
endif()

# Units and env files: @BINDIR@, @DATADIR@, @DOCDIR@, @SYSCONFDIR@ filled in
# with the install-time prefix
install(CODE "
  set(prefix \"\${CMAKE_INSTALL_PREFIX}\")
  if(prefix STREQUAL \"/usr\")
    set(sysconf \"/etc\")
  else()
    set(sysconf \"\${prefix}/etc\")
  endif()
  set(root \"\$ENV{DESTDIR}\")
  foreach(svc registry allocator riskmon notifier planner gateway hub uplink)
    foreach(pair \"systemd/pmo-\${svc}.service.in|\${prefix}/lib/systemd/system/pmo-\${svc}.service\"
                 \"systemd/env/\${svc}.env|\${sysconf}/pmo/\${svc}.env\")
      string(REPLACE \"|\" \";\" pair \"\${pair}\")
      list(GET pair 0 from)
      list(GET pair 1 to)
      file(READ \"${PROJECT_SOURCE_DIR}/deploy/\${from}\" text)
      string(REPLACE \"@BINDIR@\" \"\${prefix}/${CMAKE_INSTALL_BINDIR}\" text \"\${text}\")
      string(REPLACE \"@DATADIR@\" \"\${prefix}/${CMAKE_INSTALL_DATADIR}\" text \"\${text}\")
      string(REPLACE \"@DOCDIR@\" \"\${prefix}/${CMAKE_INSTALL_DOCDIR}\" text \"\${text}\")
      string(REPLACE \"@SYSCONFDIR@\" \"\${sysconf}\" text \"\${text}\")
      message(STATUS \"Installing: \${root}\${to}\")
      file(WRITE \"\${root}\${to}\" \"\${text}\")
    endforeach()
  endforeach()
")

# The Debian package: `cpack -G DEB` in a build configured with
# -DCMAKE_INSTALL_PREFIX=/usr (docs/install.md). lintian finds no error in it
# (tests/deploy/test_package.sh runs it); its warnings are explained there.
set(PMO_PACKAGE_CONTACT "pmo maintainers <pmo-maintainers@example.org>"
    CACHE STRING "The Maintainer of the Debian package (a distributor sets its own)")
# The copyright file and the changelog Debian policy asks of every package
install(FILES ${PROJECT_SOURCE_DIR}/deploy/debian/copyright DESTINATION ${CMAKE_INSTALL_DOCDIR})
set(PMO_VERSION ${PROJECT_VERSION})
set(PMO_CONTACT ${PMO_PACKAGE_CONTACT})
configure_file(${PROJECT_SOURCE_DIR}/deploy/debian/changelog.in
               ${PROJECT_BINARY_DIR}/debian/changelog @ONLY)
install(CODE "
  set(doc \"\$ENV{DESTDIR}\${CMAKE_INSTALL_PREFIX}/${CMAKE_INSTALL_DOCDIR}\")
  file(MAKE_DIRECTORY \"\${doc}\")
  message(STATUS \"Installing: \${doc}/changelog.gz\")
  execute_process(COMMAND gzip -9nc \"${PROJECT_BINARY_DIR}/debian/changelog\"
                  OUTPUT_FILE \"\${doc}/changelog.gz\" RESULT_VARIABLE rc)
  if(rc)
    message(FATAL_ERROR \"gzip of the changelog failed\")
  endif()
")
set(CPACK_PACKAGE_NAME pmo)
set(CPACK_PACKAGE_VENDOR "pmo")
set(CPACK_PACKAGE_CONTACT "${PMO_PACKAGE_CONTACT}")
set(CPACK_PACKAGE_DESCRIPTION_SUMMARY "Project Management Office platform over ZeroMQ and Redis")
# The extended description (CPack puts the summary above it)
set(CPACK_DEBIAN_PACKAGE_DESCRIPTION
    "Message-driven services for Project Management Offices: a registry of org
units, portfolios, programmes and projects with phase gates; a resource
allocator; a risk monitor computing project health with alerts; a notifier
(e-mail, webhooks, chat); a portfolio planner; an HTTP/JSON gateway with a
dashboard; a hub and uplinks joining divisions; and pmoctl, the command
line. State lives in Redis; the services speak protobuf over ZeroMQ.")
# Binaries without their debug symbols
set(CPACK_STRIP_FILES ON)
set(CPACK_PACKAGING_INSTALL_PREFIX /usr)
# Install with DESTDIR and the prefix /usr, so the units say /usr/bin and /etc
set(CPACK_SET_DESTDIR ON)
set(CPACK_INSTALL_PREFIX /usr)
set(CPACK_DEBIAN_FILE_NAME DEB-DEFAULT)
set(CPACK_DEBIAN_PACKAGE_SECTION misc)
set(CPACK_DEBIAN_PACKAGE_SHLIBDEPS ON)
set(CPACK_DEBIAN_PACKAGE_DEPENDS "adduser, redis-server (>= 5:7.0)")
set(CPACK_DEBIAN_PACKAGE_SUGGESTS "redis-sentinel")
set(CPACK_DEBIAN_PACKAGE_CONTROL_EXTRA
    ${PROJECT_SOURCE_DIR}/deploy/debian/conffiles ${PROJECT_SOURCE_DIR}/deploy/debian/postinst
    ${PROJECT_SOURCE_DIR}/deploy/debian/postrm)
set(CPACK_DEBIAN_PACKAGE_CONTROL_STRICT_PERMISSION ON)
include(CPack)

"""Fills scripts/openstack.sh's test cloud through its own APIs (openstacksdk, as the cloud's admin), idempotently.

  python bootstrap.py identity   service users, the cms project and user, the catalog (Keystone only)
  python bootstrap.py resources  flavors, a Debian 12 image record, the cms project's loopback network, an external
                                 network for floating IPs and the cms project's router between the two
  python bootstrap.py computes   disables and deletes the compute hosts of earlier starts (all but
                                 $CMS_OS_COMPUTE_HOST): the scheduler would still pick a stopped one for a minute,
                                 and nothing would build

Settings come from the environment (never the command line): OS_CLIENT_CONFIG_FILE and OS_CLOUD name the admin's
entry of the testbed's clouds.yaml; CMS_OS_PASSWORDS_DIR holds one password file per user; CMS_OS_PORTS is
"compute=PORT network=PORT ..."; CMS_OS_SUBNET, CMS_OS_GATEWAY, CMS_OS_POOL_START, CMS_OS_POOL_END describe the loopback subnet, and
CMS_OS_PUBLIC_SUBNET, CMS_OS_PUBLIC_GATEWAY, CMS_OS_PUBLIC_POOL_START, CMS_OS_PUBLIC_POOL_END the external one.
"""

import os
import sys

import openstack

SERVICES = {
    # type: (name, path after the port)
    'compute': ('nova', '/v2.1'),
    'network': ('neutron', ''),
    'image': ('glance', ''),
    'placement': ('placement', ''),
}
SERVICE_USERS = ['nova', 'neutron', 'glance', 'placement']
FLAVORS = [('m1.small', 1, 2048, 10), ('m1.medium', 2, 4096, 20), ('m1.large', 4, 8192, 40)]
IMAGE_NAME = 'debian-12-generic-amd64-20261101'
NETWORK = 'cms-test-net'
SUBNET = 'cms-test-subnet'
PUBLIC_NETWORK = 'cms-test-public'
PUBLIC_SUBNET = 'cms-test-public-subnet'
ROUTER = 'cms-test-router'


def password(user):
    with open(os.path.join(os.environ['CMS_OS_PASSWORDS_DIR'], user)) as f:
        return f.read().strip()


def ensure_user(conn, name, project, role_names):
    domain = conn.identity.find_domain('default')
    user = conn.identity.find_user(name, domain_id=domain.id)
    if user is None:
        user = conn.identity.create_user(name=name, domain_id=domain.id, password=password(name), default_project_id=project.id)
    else:
        conn.identity.update_user(user, password=password(name))
    for role_name in role_names:
        role = conn.identity.find_role(role_name)
        conn.identity.assign_project_role_to_user(project, user, role)


def ensure_project(conn, name):
    domain = conn.identity.find_domain('default')
    return conn.identity.find_project(name, domain_id=domain.id) or conn.identity.create_project(name=name, domain_id=domain.id)


def identity(conn):
    service_project = ensure_project(conn, 'service')
    cms_project = ensure_project(conn, 'cms')
    for user in SERVICE_USERS:
        ensure_user(conn, user, service_project, ['admin', 'service'] if conn.identity.find_role('service') else ['admin'])
    ensure_user(conn, 'cms', cms_project, ['member', 'reader'])
    ports = dict(item.split('=') for item in os.environ['CMS_OS_PORTS'].split())
    region = 'RegionOne'
    for kind, (name, path) in SERVICES.items():
        service = conn.identity.find_service(name) or conn.identity.create_service(name=name, type=kind)
        url = f'http://127.0.0.1:{ports[kind]}{path}'
        have = list(conn.identity.endpoints(service_id=service.id))
        for interface in ('public', 'internal', 'admin'):
            same = [e for e in have if e.interface == interface]
            if same and same[0].url == url:
                continue
            for e in same:
                conn.identity.delete_endpoint(e)
            conn.identity.create_endpoint(service_id=service.id, interface=interface, url=url, region_id=region)


def resources(conn):
    for name, vcpus, ram, disk in FLAVORS:
        if conn.compute.find_flavor(name) is None:
            conn.compute.create_flavor(name=name, vcpus=vcpus, ram=ram, disk=disk, is_public=True)
    image = conn.image.find_image(IMAGE_NAME)
    if image is not None and image.status != 'active':
        conn.image.delete_image(image)
        image = None
    if image is None:
        # A record with a few bytes of data: Nova's fake driver boots nothing, but Nova wants an active image.
        image = conn.image.create_image(name=IMAGE_NAME, disk_format='raw', container_format='bare', visibility='public',
                                        data=b'\0' * 1024, os_distro='debian', os_version='12', architecture='x86_64')
    cms_project = conn.identity.find_project('cms', domain_id=conn.identity.find_domain('default').id)
    network = conn.network.find_network(NETWORK, project_id=cms_project.id)
    if network is None:
        network = conn.network.create_network(name=NETWORK, project_id=cms_project.id)
    subnet = conn.network.find_subnet(SUBNET, network_id=network.id)
    if subnet is None:
        subnet = conn.network.create_subnet(name=SUBNET, network_id=network.id, project_id=cms_project.id, ip_version=4,
                                            cidr=os.environ['CMS_OS_SUBNET'], gateway_ip=os.environ['CMS_OS_GATEWAY'],
                                            is_dhcp_enabled=False,
                                            allocation_pools=[{'start': os.environ['CMS_OS_POOL_START'], 'end': os.environ['CMS_OS_POOL_END']}])
    elif subnet.gateway_ip is None:
        # Neutron binds a floating IP only to a port on a subnet with a gateway (the router's interface).
        subnet = conn.network.update_subnet(subnet, gateway_ip=os.environ['CMS_OS_GATEWAY'])
    public = conn.network.find_network(PUBLIC_NETWORK)
    if public is None:
        public = conn.network.create_network(name=PUBLIC_NETWORK, is_router_external=True)
    if conn.network.find_subnet(PUBLIC_SUBNET, network_id=public.id) is None:
        conn.network.create_subnet(name=PUBLIC_SUBNET, network_id=public.id, ip_version=4,
                                   cidr=os.environ['CMS_OS_PUBLIC_SUBNET'], gateway_ip=os.environ['CMS_OS_PUBLIC_GATEWAY'],
                                   is_dhcp_enabled=False,
                                   allocation_pools=[{'start': os.environ['CMS_OS_PUBLIC_POOL_START'], 'end': os.environ['CMS_OS_PUBLIC_POOL_END']}])
    router = conn.network.find_router(ROUTER, project_id=cms_project.id)
    if router is None:
        router = conn.network.create_router(name=ROUTER, project_id=cms_project.id,
                                            external_gateway_info={'network_id': public.id})
    if not any(p.device_owner == 'network:router_interface' for p in conn.network.ports(device_id=router.id)):
        conn.network.add_interface_to_router(router, subnet_id=subnet.id)


def computes(conn):
    current = os.environ['CMS_OS_COMPUTE_HOST']
    for service in conn.compute.services(binary='nova-compute'):
        if service.host == current:
            continue
        # Disabled, the scheduler passes it by; deleted (with its resource provider) once it hosts no server.
        conn.compute.disable_service(service, service.host, service.binary, disabled_reason='an earlier start')
        try:
            conn.compute.delete_service(service)
        except openstack.exceptions.ConflictException:
            print(f'{service.host} still hosts servers: disabled, not deleted')


PHASES = {'identity': identity, 'resources': resources, 'computes': computes}


def main():
    phase = sys.argv[1] if len(sys.argv) == 2 else ''
    if phase not in PHASES:
        sys.exit('usage: bootstrap.py identity|resources|computes')
    PHASES[phase](openstack.connect())


if __name__ == '__main__':
    main()

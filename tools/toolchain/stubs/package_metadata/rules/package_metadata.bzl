"""Offline stand-in for package_metadata: accepts the attributes, provides nothing."""

def _impl(_ctx):
    return []

_package_metadata = rule(
    implementation = _impl,
    attrs = {"purl": attr.string(), "attributes": attr.label_list()},
)

def package_metadata(name, purl = None, attributes = [], visibility = None, **kwargs):
    # applicable_licenses = []: a metadata target must not get default_package_metadata
    # applied to itself (that would be a dependency cycle).
    _package_metadata(
        name = name,
        purl = purl,
        attributes = attributes,
        visibility = visibility,
        applicable_licenses = [],
        **kwargs
    )

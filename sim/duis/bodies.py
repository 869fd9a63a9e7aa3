"""The service request bodies of the commissioning story, one dataclass each.

Only what hansim models is typed; each class names its DUIS element (``TAG``). Field
order is schema order (see :mod:`sim.duis.codec`).
"""

from __future__ import annotations

from dataclasses import dataclass

from han.installcode import InstallCode
from sim.duis.codec import BOOL, FLAG, INSTALL_CODE, INT, REPEATED, Body, xml


@dataclass(frozen=True)
class RequestWANMatrix(Body):
    """12.1: SM WAN coverage at a premises, by UPRN or post code + address."""

    TAG = "RequestWANMatrix"
    uprn: str | None = xml("UPRN")
    post_code: str | None = xml("PartialAddress/PostCode")
    address_identifier: str | None = xml("PartialAddress/AddressIdentifier")


@dataclass(frozen=True)
class DevicePrenotification(Body):
    """12.2: a supplier tells the DCC a meter exists before installing it."""

    TAG = "DevicePrenotification"
    device_id: str = xml("DeviceID")
    manufacturer: str = xml("DeviceManufacturer")
    model: str = xml("DeviceModel")
    device_type: str = xml("DeviceType")
    smets_chts_version: str | None = xml("SMETSCHTSVersion")
    firmware_version: str | None = xml("FirmwareVersion")
    esme_variant: str | None = xml("ESMEVariant")
    associated_gpf_id: str | None = xml("AssociatedGPFDeviceID")


@dataclass(frozen=True)
class CHFInstallSuccessSMWAN(Body):
    """8.14.1: Comms Hub installed and talking over the SM WAN."""

    TAG = "CHFInstallSuccessSMWAN"
    device_id: str = xml("DeviceID")
    install_type: str = xml("CHFInstallType")
    mpxn: str = xml("MPxN")
    aerial_install: bool = xml("AerialInstall", BOOL, False)
    location: str = xml("CHFLocation")


@dataclass(frozen=True)
class CHFInstallSuccessNoSMWAN(Body):
    """8.14.2: Comms Hub installed with no SM WAN ("install and leave")."""

    TAG = "CHFInstallSuccessNoSMWAN"
    device_id: str = xml("DeviceID")
    install_type: str = xml("CHFInstallType")
    mpxn: str = xml("MPxN")
    aerial_install: bool = xml("AerialInstall", BOOL, False)
    location: str = xml("CHFLocation")
    premise_type: str = xml("PremiseType")
    metal_obstruction: bool = xml("MetalObstructionCheck", BOOL, False)
    connectivity_obstruction: bool = xml("ConnectivityObstructionCheck", BOOL, False)
    shared_obstruction: bool = xml("SharedObstructionCheck", BOOL, False)


@dataclass(frozen=True)
class CHFFaultReturn(Body):
    """8.14.3: a faulty Comms Hub goes back to its CSP."""

    TAG = "CHFFaultReturn"
    device_id: str = xml("DeviceID")
    return_type: str = xml("CHFFaultReturnType")
    user_ref_date_time: str | None = xml("UserRefDateTime")
    user_ref_id: str | None = xml("UserRefID")
    other_device_id: str = xml("OtherDeviceID")
    incident_reference: str | None = xml("IncidentReference")
    connection_method: str = xml("CHFConnectionMethod")
    fault_reason: str = xml("CHFFaultReason")
    additional_information: str | None = xml("AdditionalInformation")


@dataclass(frozen=True)
class CHFNoFaultReturn(Body):
    """8.14.4: a working Comms Hub goes back to its CSP (replaced, lost, opted out)."""

    TAG = "CHFNoFaultReturn"
    device_id: str = xml("DeviceID")
    return_type: str = xml("CHFNoFaultReturnType")
    user_ref_date_time: str | None = xml("UserRefDateTime")
    user_ref_id: str | None = xml("UserRefID")
    incident_reference: str | None = xml("IncidentReference")
    additional_information: str | None = xml("AdditionalInformation")


@dataclass(frozen=True)
class UpdateHANDeviceLog(Body):
    """8.11: add a device to the CHF's whitelist with its install code, or remove it."""

    TAG = "UpdateHANDeviceLog"
    device_id: str = xml("DeviceID")
    request_type: str = xml("RequestType")
    join_time_period: int | None = xml("AddDeviceToCHFWhitelist/JoinTimePeriod", INT)
    install_code: InstallCode | None = xml("AddDeviceToCHFWhitelist/InstallCode", INSTALL_CODE)
    import_mpxn: str | None = xml("AddDeviceToCHFWhitelist/ImportMPxN")
    secondary_import_mpan: str | None = xml("AddDeviceToCHFWhitelist/SecondaryImportMPAN")
    export_mpan: str | None = xml("AddDeviceToCHFWhitelist/ExportMPAN")


@dataclass(frozen=True)
class JoinServiceCritical(Body):
    """8.7.1: join a meter to another device (critical: pre-command first)."""

    TAG = "JoinServiceCritical"
    other_device_id: str = xml("OtherDeviceID")


@dataclass(frozen=True)
class JoinServiceNonCritical(Body):
    """8.7.2: join a device (e.g. an IHD, or the GSME to its GPF) to the target."""

    TAG = "JoinServiceNonCritical"
    other_device_id: str = xml("OtherDeviceID")


@dataclass(frozen=True)
class UnjoinServiceCritical(Body):
    """8.8.1: unjoin a device from a meter (critical: pre-command first)."""

    TAG = "UnjoinServiceCritical"
    other_device_id: str = xml("OtherDeviceID")


@dataclass(frozen=True)
class UnjoinServiceNonCritical(Body):
    """8.8.2: unjoin a device (e.g. an IHD, or the GSME from its GPF) from the target."""

    TAG = "UnjoinServiceNonCritical"
    other_device_id: str = xml("OtherDeviceID")


@dataclass(frozen=True)
class RestoreHANDeviceLog(Body):
    """8.12.1 (CCS03): a replacement CHF takes the device log of the one it replaced."""

    TAG = "RestoreHANDeviceLog"
    old_chf_id: str = xml("OldCHFID")


@dataclass(frozen=True)
class RestoreGPFDeviceLog(Body):
    """8.12.2 (GCS59): a replacement GPF takes the device log of the one it replaced."""

    TAG = "RestoreGPFDeviceLog"
    old_gpf_id: str = xml("OldGPFID")


@dataclass(frozen=True)
class CommissionDeviceSynchroniseClock(Body):
    """8.1.1: commission a meter and set its clock (critical)."""

    TAG = "CommissionDeviceSynchroniseClock"
    current_date_time: str = xml("CurrentDateTime")
    tolerance_period: int = xml("TolerancePeriod", INT, 0)


@dataclass(frozen=True)
class UpdateInventory(Body):
    """8.4: set a device's SMI status, or delete a device from the SMI."""

    TAG = "UpdateInventory"
    device_id: str = xml("DeviceID")
    status_except_ch: str | None = xml("UpdateDeviceStatusExceptCH")
    status_ch: str | None = xml("UpdateDeviceStatusCH")
    delete: bool = xml("DeleteDevice", FLAG, False)


@dataclass(frozen=True)
class ReadInventory(Body):
    """8.2: what the SMI holds about a device (or premises)."""

    TAG = "ReadInventory"
    uprn: str | None = xml("UPRN")
    device_id: str | None = xml("DeviceID")
    mpxn: str | None = xml("MPxN")


@dataclass(frozen=True)
class DecommissionDevice(Body):
    """8.3: take a device out of service."""

    TAG = "DecommissionDevice"
    device_id: str = xml("DeviceID")


@dataclass(frozen=True)
class ReadDeviceLog(Body):
    """8.9 (CCS06): read the CHF's device log."""

    TAG = "ReadDeviceLog"
    read_security_details: bool = xml("ReadSecurityDetails", FLAG, False)


@dataclass(frozen=True)
class UpdateSecurityCredentialsCoS(Body):
    """6.23: the gaining supplier replaces the losing supplier's certificates on a meter."""

    TAG = "UpdateSecurityCredentialsCoS"
    execution_date_time: str | None = xml("ExecutionDateTime")  # future-dated when later than now
    floor_seq_number: int = xml("SupplierFloorSeqNumber", INT, 0)
    prepayment_floor_seq_number: int | None = xml("SupplierPrepaymentTopUpFloorSeqNumber", INT)
    signing_certificate: str = xml("SupplierReplacementCertificates/DigitalSigningCertificate")
    key_agreement_certificate: str = xml("SupplierReplacementCertificates/KeyAgreementCertificate")
    top_up_certificate: str | None = xml(
        "SupplierReplacementCertificates/KeyAgreementTopUpCertificate"
    )
    path_certificates: tuple[str, ...] = xml("CertificationPathCertificates/Certificate", REPEATED)
    time_based_cpv_checks: bool = xml("ApplyTimeBasedCPVChecks", BOOL, False)
    import_mpxn: str = xml("ImportMPxN")


@dataclass(frozen=True)
class UpdateSecurityCredentialsKRP(Body):
    """6.15.1 (CS02b, critical): the supplier or network operator replaces its own
    certificates on a device, authorised by its current Digital Signing key."""

    TAG = "UpdateSecurityCredentialsKRP"
    execution_date_time: str | None = xml("ExecutionDateTime")
    remote_party_role: str = xml("RemotePartyRole")
    floor_seq_number: int = xml("RemotePartyFloorSeqNumber", INT, 0)
    prepayment_floor_seq_number: int | None = xml("RemotePartyPrepaymentTopUpFloorSeqNumber", INT)
    signing_certificate: str = xml(
        "ReplacementCertificates/SupplierOrNetworkOperatorCertificates/DigitalSigningCertificate")
    key_agreement_certificate: str | None = xml(
        "ReplacementCertificates/SupplierOrNetworkOperatorCertificates/KeyAgreementCertificate")
    top_up_certificate: str | None = xml(
        "ReplacementCertificates/SupplierOrNetworkOperatorCertificates/KeyAgreementTopUpCertificate")
    path_certificates: tuple[str, ...] = xml("CertificationPathCertificates/Certificate", REPEATED)
    time_based_cpv_checks: bool = xml("ApplyTimeBasedCPVChecks", BOOL, False)


@dataclass(frozen=True)
class UpdateSecurityCredentialsDevice(Body):
    """6.15.2 (CS02d, critical): a device's own certificate, issued for it, installed."""

    TAG = "UpdateSecurityCredentialsDevice"
    device_certificate: str = xml("DeviceCertificate")


@dataclass(frozen=True)
class RequestHandoverOfDCCControlledDevice(Body):
    """6.21 (CS02b handover): a supplier or network operator takes over, from the DCC, the
    credentials a device holds for its role (future-dated by the DCC when later than now)."""

    TAG = "RequestHandoverOfDCCControlledDevice"
    execution_date_time: str | None = xml("ExecutionDateTime")
    remote_party_role: str = xml("RemotePartyRole")
    floor_seq_number: int | None = xml("RemotePartyFloorSeqNumber", INT)
    prepayment_floor_seq_number: int | None = xml("RemotePartyPrepaymentTopUpFloorSeqNumber", INT)
    signing_certificate: str = xml("ReplacementCertificates/DigitalSigningCertificate")
    key_agreement_certificate: str | None = xml("ReplacementCertificates/KeyAgreementCertificate")
    top_up_certificate: str | None = xml("ReplacementCertificates/KeyAgreementTopUpCertificate")
    path_certificates: tuple[str, ...] = xml("CertificationPathCertificates/Certificate", REPEATED)
    time_based_cpv_checks: bool = xml("ApplyTimeBasedCPVChecks", BOOL, False)


@dataclass(frozen=True)
class ReadFirmwareVersion(Body):
    """11.2 (ECS52, GCS38, CS08): the firmware version a device runs."""

    TAG = "ReadFirmwareVersion"
    execution_date_time: str | None = xml("ExecutionDateTime")


@dataclass(frozen=True)
class UpdateFirmware(Body):
    """11.1: distribute a firmware image to devices (a DCC-only, non-device request)."""

    TAG = "UpdateFirmware"
    image: str = xml("FirmwareImage")
    version: str = xml("FirmwareVersion")
    device_ids: str = xml("DeviceIDList")


@dataclass(frozen=True)
class ActivateFirmware(Body):
    """11.3: activate a distributed image by the hash of the manufacturer image (critical)."""

    TAG = "ActivateFirmware"
    execution_date_time: str | None = xml("ExecutionDateTime")  # future-dated when later than now
    firmware_hash: str = xml("FirmwareHash")


@dataclass(frozen=True)
class SignedPreCommand(Body):
    """Command variants 5-7: the supplier's signed pre-command, sent back to the DCC."""

    TAG = "SignedPreCommand"
    gbcs_payload: str = xml("GBCSPayload")


BODIES: dict[str, type[Body]] = {
    cls.TAG: cls
    for cls in (
        RequestWANMatrix, DevicePrenotification, CHFInstallSuccessSMWAN,
        CHFInstallSuccessNoSMWAN, CHFFaultReturn, CHFNoFaultReturn, UpdateHANDeviceLog, JoinServiceCritical,
        JoinServiceNonCritical, UnjoinServiceCritical, UnjoinServiceNonCritical,
        CommissionDeviceSynchroniseClock, RestoreHANDeviceLog, RestoreGPFDeviceLog, UpdateInventory,
        ReadInventory, DecommissionDevice, ReadDeviceLog, UpdateSecurityCredentialsCoS, UpdateSecurityCredentialsKRP,
        UpdateSecurityCredentialsDevice,
        RequestHandoverOfDCCControlledDevice, ReadFirmwareVersion,
        UpdateFirmware, ActivateFirmware, SignedPreCommand,
    )
}

// Drives a hansim virtual stick with Zigbee2MQTT's zigbee-herdsman, unmodified, through
// the steps of issue 16 item 1; prints one JSON line per step and exits 0 only if all pass.
//
// usage: node drive.js ADAPTER tcp://127.0.0.1:PORT STATE_DIR EUI64 INSTALL_CODE MODE
//   ADAPTER   zstack (or ember)
//   MODE      join:    fresh start, addInstallCode, permitJoin, deviceJoined, interview,
//                      reads of Basic and Metering, bind + configure reporting with a
//                      report arriving, lqi, routingTable, backup, stop
//             restart: start again (same STATE_DIR: its database and backup), read the
//                      meter's Metering again, stop
//             network: start (restoring STATE_DIR's backup onto an empty stick), report
//                      the network, stop
"use strict";

const path = require("node:path");
const {Controller, setLogger} = require("zigbee-herdsman");

const [adapter, port, stateDir, eui64, installCode, mode] = process.argv.slice(2);
const STEP_TIMEOUT_MS = 60000;
const say = (step, detail = {}) => console.log(JSON.stringify({step, ...detail}));
const VERBOSE = process.env.HERDSMAN_DEBUG === "1";
const quiet = () => {};
const log = (level) => (message, namespace) => console.error(`${level} ${namespace}: ${message}`);
setLogger({debug: VERBOSE ? log("debug") : quiet, info: VERBOSE ? log("info") : quiet,
    warning: log("warning"), error: log("error")});

function within(ms, promise, what) {
    let timer;
    const timeout = new Promise((_, reject) => {
        timer = setTimeout(() => reject(new Error(`${what}: no answer within ${ms} ms`)), ms);
    });
    return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

function once(controller, event, match) {
    return new Promise((resolve) => {
        const listener = (data) => {
            if (match(data)) {
                controller.off(event, listener);
                resolve(data);
            }
        };
        controller.on(event, listener);
    });
}

async function main() {
    const ieee = `0x${eui64.replace(/[^0-9a-fA-F]/g, "").toLowerCase()}`;
    const controller = new Controller({
        network: {
            panID: 0x1a62,
            extendedPanID: [0xdd, 0xdd, 0xdd, 0xdd, 0xdd, 0xdd, 0xdd, 0xdd],
            channelList: [15],
            networkKey: [1, 3, 5, 7, 9, 11, 13, 15, 0, 2, 4, 6, 8, 10, 12, 13],
        },
        serialPort: {path: port, adapter},
        databasePath: path.join(stateDir, "database.db"),
        databaseBackupPath: path.join(stateDir, "database.db.backup"),
        backupPath: path.join(stateDir, "coordinator_backup.json"),
        adapter: {disableLED: false},
        acceptJoiningDeviceHandler: async () => true,
    });
    const started = await within(180000, controller.start(), "start");
    say("start", {result: started});
    const coordinator = controller.getDevicesByType("Coordinator")[0];
    const parameters = await controller.getNetworkParameters();
    say("network", {panID: parameters.panID, extendedPanID: parameters.extendedPanID,
        channel: parameters.channel, coordinator: coordinator.ieeeAddr});

    if (mode === "network") {
        await controller.stop();
        say("stop");
        return;
    }
    let meter;
    if (mode === "join") {
        await controller.addInstallCode(`${ieee.slice(2)}|${installCode}`.toUpperCase());
        say("addInstallCode");
        const joined = once(controller, "deviceJoined", (d) => d.device.ieeeAddr === ieee);
        const interviewed = once(controller, "deviceInterview",
            (d) => d.device.ieeeAddr === ieee && d.status !== "started");
        await controller.permitJoin(60);
        say("permitJoin");
        meter = (await within(STEP_TIMEOUT_MS, joined, "deviceJoined")).device;
        say("deviceJoined", {ieee: meter.ieeeAddr, nwk: meter.networkAddress});
        const interview = await within(STEP_TIMEOUT_MS, interviewed, "interview");
        if (interview.status !== "successful") throw new Error(`interview ${interview.status}`);
        say("interview", {endpoints: meter.endpoints.map((e) => ({
            id: e.ID, profile: e.profileID, deviceID: e.deviceID, inputClusters: e.inputClusters})),
            manufacturerName: meter.manufacturerName, modelID: meter.modelID,
            powerSource: meter.powerSource, type: meter.type});
        await controller.permitJoin(0);
    } else {
        meter = controller.getDeviceByIeeeAddr(ieee);
        if (!meter) throw new Error(`the database has no device ${ieee}`);
    }
    const endpoint = meter.getEndpoint(1);
    const basic = await endpoint.read("genBasic", ["manufacturerName", "modelId", "powerSource"]);
    say("readBasic", basic);
    const metering = await endpoint.read("seMetering",
        ["currentSummDelivered", "unitOfMeasure", "multiplier", "divisor"]);
    metering.currentSummDelivered = String(metering.currentSummDelivered);
    say("readMetering", metering);

    if (mode === "join") {
        const report = once(controller, "message", (m) => m.type === "attributeReport"
            && m.device.ieeeAddr === ieee && m.cluster === "seMetering");
        await endpoint.bind("seMetering", coordinator.getEndpoint(1));
        say("bind", {binds: endpoint.binds.map((b) => b.cluster.name)});
        await endpoint.configureReporting("seMetering", [{attribute: "currentSummDelivered",
            minimumReportInterval: 1, maximumReportInterval: 2, reportableChange: 0}]);
        say("configureReporting");
        const message = await within(STEP_TIMEOUT_MS, report, "attributeReport");
        say("attributeReport", {data: Object.fromEntries(Object.entries(message.data)
            .map(([k, v]) => [k, String(v)]))});
        const lqi = await meter.lqi();
        say("lqi", {neighbors: lqi.map((n) => ({ieee: n.eui64, nwk: n.nwkAddress,
            relationship: n.relationship, lqi: n.lqi}))});
        const routes = await meter.routingTable();
        say("routingTable", {routes: routes.map((r) => ({destination: r.destinationAddress,
            status: r.status, nextHop: r.nextHopAddress}))});
        await controller.backup();
        say("backup");
    }
    await controller.stop();
    say("stop");
}

main().then(() => process.exit(0), (error) => {
    say("error", {message: String(error && error.stack || error)});
    process.exit(1);
});

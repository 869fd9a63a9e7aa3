"""Calibration of the population model's commissioning from the frame-level join."""

from sim.commissioning import DCC_SECONDS, calibrate


def test_calibration_reads_the_join_success_rate_off_the_frame_level_model() -> None:
    clean = calibrate(loss=0.0, joins=10)
    assert clean.p_join == 1.0 and DCC_SECONDS < clean.attempt_seconds < DCC_SECONDS + 5
    lossy = calibrate(loss=0.45, joins=30, seed=1)
    assert 0.05 < lossy.p_join < 1.0
    assert lossy.attempt_seconds > clean.attempt_seconds  # retries inside the join take longer

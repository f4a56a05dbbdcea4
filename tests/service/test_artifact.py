"""The model artifact's fingerprint and the check that refuses a changed artifact."""

import pytest

from lifecycle.serving.artifact import ArtifactMismatch, tree_sha256, verify


@pytest.fixture
def model_dir(tmp_path):
    folder = tmp_path / "model"
    (folder / "sub").mkdir(parents=True)
    (folder / "model.skops").write_bytes(bytes(range(256)) * 10)
    (folder / "sub" / "MLmodel").write_text("flavors: {}\n")
    return folder


def test_the_hash_is_stable_and_independent_of_the_folder_name(model_dir, tmp_path):
    copy = tmp_path / "elsewhere"
    copy.mkdir()
    for path in model_dir.rglob("*"):
        target = copy / path.relative_to(model_dir)
        if path.is_dir():
            target.mkdir(exist_ok=True)
        else:
            target.write_bytes(path.read_bytes())
    assert tree_sha256(model_dir) == tree_sha256(copy)


def test_one_flipped_byte_changes_the_hash_and_fails_the_check(model_dir):
    expected = tree_sha256(model_dir)
    verify(model_dir, expected)
    data = bytearray((model_dir / "model.skops").read_bytes())
    data[7] ^= 0x01
    (model_dir / "model.skops").write_bytes(bytes(data))
    with pytest.raises(ArtifactMismatch, match="does not match the Bento"):
        verify(model_dir, expected)


def test_a_renamed_or_missing_file_changes_the_hash(model_dir):
    expected = tree_sha256(model_dir)
    (model_dir / "sub" / "MLmodel").rename(model_dir / "sub" / "MLmodel.bak")
    assert tree_sha256(model_dir) != expected
    with pytest.raises(ArtifactMismatch, match="missing"):
        verify(model_dir / "nowhere", expected)

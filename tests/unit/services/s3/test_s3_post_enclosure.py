"""Browser POST uploads before the policy: a body that is not multipart/form-data fails S3's
precondition, and the ``tagging`` field is read as a Tagging document (LocalStack's
AWS-validated test_post_object_with_wrong_content_type and test_post_object_with_tags)."""

from __future__ import annotations

import pytest

from headwater.core.errors import ServiceError
from headwater.protocol.http import HttpRequest
from headwater.services.s3.model import S3, Bucket
from headwater.services.s3.notifications import Notifier
from headwater.services.s3.post import BrowserPost, form_tags


def _post(s3: S3, content_type: str | None) -> ServiceError:
    handler = BrowserPost(s3, {"test": "test"}, Notifier({}, "us-east-1", "000000000000"))
    headers = {} if content_type is None else {"content-type": content_type}
    request = HttpRequest("POST", "/bucket", "", headers, body=b"key=k&file=x")
    with pytest.raises(ServiceError) as err:
        handler.handle(request, "req-1")
    return err.value


@pytest.mark.parametrize("content_type", ["text/html", "application/x-www-form-urlencoded",
                                          None])
def test_a_body_that_is_not_a_form_fails_the_precondition(s3: S3, bucket: Bucket,
                                                          content_type: str | None) -> None:
    error = _post(s3, content_type)
    assert (error.code, error.status, error.message, error.fields) == (
        "PreconditionFailed", 412,
        "At least one of the pre-conditions you specified did not hold",
        {"Condition": "Bucket POST must be of the enclosure-type multipart/form-data"})


def test_a_form_without_a_boundary_is_still_malformed(s3: S3, bucket: Bucket) -> None:
    error = _post(s3, "Multipart/Form-Data")
    assert (error.code, error.status) == ("MalformedPOSTRequest", 400)


def test_tagging_fields() -> None:
    assert form_tags(None) == {}
    assert form_tags('<Tagging xmlns="http://s3.amazonaws.com/doc/2006-03-01/"><TagSet><Tag>'
                     "<Key>a</Key><Value></Value></Tag></TagSet></Tagging>") == {"a": ""}
    assert form_tags("<Other><TagSet/></Other>") == {}
    for text in ("not-xml", "<Tagging><TagSet><Tag><Key>a</Key></Tag></TagSet></Tagging>",
                 '<!DOCTYPE x [<!ENTITY e "v">]><Tagging/>'):
        with pytest.raises(ServiceError) as err:
            form_tags(text)
        assert err.value.code == "MalformedXML"
    with pytest.raises(ServiceError) as err:
        form_tags("<Tagging><TagSet><Tag><Key>a</Key><Value>1</Value></Tag><Tag><Key>a</Key>"
                  "<Value>2</Value></Tag></TagSet></Tagging>")
    assert err.value.code == "InvalidTag"

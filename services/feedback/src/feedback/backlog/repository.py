"""All queries on the suggestion backlog."""

from __future__ import annotations

import uuid

from sqlalchemy import distinct, func, select, update
from sqlalchemy.dialects.postgresql import insert

from crm_shared.db import Repository, new_id, utcnow
from feedback.backlog.models import BacklogItem, BacklogLink


class BacklogRepository(Repository):
    async def item_for_theme(
        self, theme_key: str, *, product: str | None, category: str | None, title: str
    ) -> BacklogItem:
        """The item of this theme, created by the first suggestion of it and locked: concurrent
        suggestions of one theme (from different customers' partitions) count one after the other."""
        now = utcnow()
        await self.session.execute(
            insert(BacklogItem)
            .values(
                id=new_id(),
                theme_key=theme_key,
                product=product,
                category=category,
                title=title,
                priority="medium",
                status="open",
                votes=0,
                created_at=now,
                updated_at=now,
            )
            .on_conflict_do_nothing(index_elements=["theme_key"])
        )
        query = (
            select(BacklogItem)
            .where(BacklogItem.theme_key == theme_key)
            .with_for_update()
            .execution_options(populate_existing=True)
        )
        item = (await self.session.scalars(query)).first()
        assert item is not None
        return item

    async def get(self, item_id: uuid.UUID, *, for_update: bool = False) -> BacklogItem | None:
        query = select(BacklogItem).where(BacklogItem.id == item_id)
        if for_update:
            query = query.with_for_update().execution_options(populate_existing=True)
        return (await self.session.scalars(query)).first()

    async def link_of(self, feedback_id: uuid.UUID, *, for_update: bool = False) -> BacklogLink | None:
        query = select(BacklogLink).where(BacklogLink.feedback_id == feedback_id)
        if for_update:
            query = query.with_for_update()
        return (await self.session.scalars(query)).first()

    async def count_votes(self, item_id: uuid.UUID) -> int:
        query = select(func.count(distinct(BacklogLink.customer_id))).where(BacklogLink.item_id == item_id)
        return int(await self.session.scalar(query) or 0)

    async def links(self, item_id: uuid.UUID) -> list[BacklogLink]:
        query = select(BacklogLink).where(BacklogLink.item_id == item_id).order_by(BacklogLink.linked_at)
        return list((await self.session.scalars(query)).all())

    async def items(self, *, status: str | None, product: str | None, limit: int) -> list[BacklogItem]:
        query = select(BacklogItem).where(BacklogItem.votes > 0)
        if status:
            query = query.where(BacklogItem.status == status)
        if product:
            query = query.where(BacklogItem.product == product)
        query = query.order_by(BacklogItem.votes.desc(), BacklogItem.created_at, BacklogItem.id).limit(limit)
        return list((await self.session.scalars(query)).all())

    async def move_customer(self, from_id: uuid.UUID, to_id: uuid.UUID) -> list[uuid.UUID]:
        """A merged customer's votes become the survivor's; answers the items to recount."""
        moved = await self.session.scalars(
            update(BacklogLink)
            .where(BacklogLink.customer_id == from_id)
            .values(customer_id=to_id)
            .returning(BacklogLink.item_id)
            .execution_options(synchronize_session=False)
        )
        return list(set(moved.all()))

    async def delete(self, link: BacklogLink) -> None:
        await self.session.delete(link)
        await self.session.flush()
